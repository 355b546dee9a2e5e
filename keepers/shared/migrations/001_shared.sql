-- keepers/shared tables, one copy per keeper in the schema "<keeper>_shared".
-- Runs with search_path set to that schema, so names here are unqualified.

-- Log scanner progress: the next block each named scan has not yet processed.
CREATE TABLE cursors (
  name text PRIMARY KEY,
  next_block bigint NOT NULL CHECK (next_block >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Hashes of the blocks at which scan chunks ended. The newest one detects a reorg; the older ones
-- tell how far back the chain still agrees with what was processed.
CREATE TABLE cursor_checkpoints (
  name text NOT NULL REFERENCES cursors (name) ON DELETE CASCADE,
  block_number bigint NOT NULL CHECK (block_number >= 0),
  block_hash text NOT NULL,
  PRIMARY KEY (name, block_number)
);

-- The next nonce the DirectSubmitter will use per sender; the row is locked while a nonce is taken.
CREATE TABLE nonces (
  chain_id bigint NOT NULL,
  address text NOT NULL,
  next_nonce bigint NOT NULL CHECK (next_nonce >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, address)
);

-- One row per idempotency key. A signed transaction (nonce, raw_tx, hash) is written here before
-- it is broadcast, so a restart can always find and finish it instead of signing a second one.
CREATE TABLE txs (
  id text PRIMARY KEY,
  key text NOT NULL UNIQUE,
  intent_hash text NOT NULL,
  chain_id bigint NOT NULL,
  sender text NOT NULL,
  to_address text NOT NULL,
  data text NOT NULL,
  value numeric(78, 0) NOT NULL,
  gas_limit bigint,
  label text,
  agent_id text,
  status text NOT NULL CHECK (status IN ('queued', 'submitted', 'confirmed', 'failed', 'rejected')),
  nonce bigint,
  raw_tx text,
  hash text,
  max_fee_per_gas numeric(78, 0),
  max_priority_fee_per_gas numeric(78, 0),
  gas_used bigint,
  effective_gas_price numeric(78, 0),
  block_number bigint,
  block_hash text,
  revert_reason text,
  error text,
  broadcasts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((nonce IS NULL) = (raw_tx IS NULL) AND (nonce IS NULL) = (hash IS NULL)),
  CHECK (status NOT IN ('submitted', 'confirmed') OR hash IS NOT NULL)
);
-- A nonce is used by one signed transaction only.
CREATE UNIQUE INDEX txs_sender_nonce ON txs (chain_id, sender, nonce) WHERE nonce IS NOT NULL;
CREATE INDEX txs_open ON txs (chain_id, sender, nonce) WHERE status IN ('queued', 'submitted');

-- Named leases (for example one per agent) so that two instances of a keeper never act at once.
-- `token` grows each time the lease changes hands: a fencing token for whatever the holder writes.
CREATE TABLE leases (
  name text PRIMARY KEY,
  owner text NOT NULL,
  token bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now()
);

-- A work queue claimed with FOR UPDATE SKIP LOCKED by any number of workers.
CREATE TABLE jobs (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  key text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  run_after timestamptz NOT NULL DEFAULT now(),
  locked_by text,
  locked_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (queue, key)
);
CREATE INDEX jobs_claimable ON jobs (queue, id) WHERE status IN ('pending', 'running');
