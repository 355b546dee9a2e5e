-- The backup keeper's state. Keys never appear here: only what the chain and the content store also see.

-- A backup asked for (wake-end, CLI, watch). At most one pending request per agent: a second is merged into it.
CREATE TABLE requests (
  id bigserial PRIMARY KEY,
  agent_id numeric(78, 0) NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'signed', 'done', 'failed')),
  source text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  run_after timestamptz NOT NULL DEFAULT now(),
  backup_id bigint,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX requests_one_pending ON requests (agent_id) WHERE status = 'pending';
CREATE INDEX requests_due ON requests (status, run_after);

-- An anchored batch: planned (membership fixed, manifest published) before its transaction is sent.
CREATE TABLE anchors (
  id bigserial PRIMARY KEY,
  tx_key text NOT NULL UNIQUE,
  root text NOT NULL,
  count integer NOT NULL,
  uri text NOT NULL,
  status text NOT NULL CHECK (status IN ('planned', 'anchored', 'failed')),
  anchor_index numeric(78, 0),
  tx_hash text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  anchored_at timestamptz
);

-- A sealed, stored and agent-signed backup record, and how it reached the chain.
CREATE TABLE backups (
  id bigserial PRIMARY KEY,
  agent_id numeric(78, 0) NOT NULL,
  sequence bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('signed', 'anchoring', 'anchored', 'failed')),
  mode text NOT NULL CHECK (mode IN ('direct', 'batch')),
  ciphertext_hash text NOT NULL,
  cid text NOT NULL,
  deadline numeric(78, 0) NOT NULL,
  signature text NOT NULL,
  signer text NOT NULL,
  plaintext_bytes bigint NOT NULL,
  envelope_bytes bigint NOT NULL,
  tx_key text,
  anchor_id bigint REFERENCES anchors (id),
  proof jsonb,
  tx_hash text,
  charge_status text NOT NULL DEFAULT 'none' CHECK (charge_status IN ('none', 'pending', 'charged', 'unpaid')),
  error text,
  requested_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  anchored_at timestamptz,
  UNIQUE (agent_id, sequence)
);
CREATE INDEX backups_status ON backups (status);

-- Restores run by this keeper (the family learns of each from the chain's Restored event).
CREATE TABLE restores (
  id bigserial PRIMARY KEY,
  agent_id numeric(78, 0) NOT NULL,
  sequence bigint,
  target text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'done', 'refused')),
  error_code text,
  error text,
  tx_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
