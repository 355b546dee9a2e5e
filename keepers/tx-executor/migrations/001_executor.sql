-- The tx-executor's tables (schema "tx_executor"). Runs with search_path set to that schema.
--
-- Order of writes, whatever the instance: a request row exists before anything is evaluated, a
-- request is accepted before it gets a nonce, and a nonce, the signed bytes and the hash are stored
-- in one transaction before anything is broadcast. A restarted or cloned instance therefore always
-- finds, and finishes, what another one started.

-- One row per request, keyed by (scope, idempotency key). scope is 'agent:<agentId>' for an agent's
-- signed spend, 'keeper:<name>' for a keeper's own transaction, 'breaker' for the sentinel's freezes.
CREATE TABLE requests (
  id text PRIMARY KEY,
  scope text NOT NULL,
  key text NOT NULL,
  body_hash text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('spend', 'keeper', 'freeze')),
  agent_id numeric(78, 0),
  keeper text,
  chain_id bigint NOT NULL,
  sender text NOT NULL,
  to_address text NOT NULL,
  data text NOT NULL,
  value numeric(78, 0) NOT NULL DEFAULT 0,
  gas_limit bigint,
  label text,
  -- The request as received (the signed Spend and its signature, or the keeper's intent).
  body jsonb NOT NULL,
  -- For spends: the Spend's unordered nonce, token and amount (in-flight allowance accounting).
  spend_nonce numeric(78, 0),
  spend_token text,
  spend_amount numeric(78, 0),
  status text NOT NULL CHECK (status IN ('queued', 'submitted', 'confirmed', 'failed', 'rejected')),
  -- Set once the request passed its checks; a queued request without it is still to be evaluated.
  accepted_at timestamptz,
  reject_code text,
  reject_http integer,
  revert_reason text,
  error text,
  -- A claim while one instance evaluates the request (no database transaction spans an RPC call).
  claimed_by text,
  claimed_until timestamptz,
  -- The transaction: nonce of the sender, hash of the latest signed attempt (or of the mined one).
  nonce bigint,
  hash text,
  attempts integer NOT NULL DEFAULT 0,
  max_fee_per_gas numeric(78, 0),
  max_priority_fee_per_gas numeric(78, 0),
  last_signed_at timestamptz,
  first_sent_at timestamptz,
  last_sent_at timestamptz,
  -- Stuck at the fee cap or the replacement cap: reported once, still rebroadcast.
  stuck_reported boolean NOT NULL DEFAULT false,
  -- Seen in a block that is not yet deep enough (cleared again on a reorg).
  seen_block bigint,
  seen_block_hash text,
  seen_hash text,
  gas_used bigint,
  effective_gas_price numeric(78, 0),
  block_number bigint,
  block_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (scope, key),
  CHECK ((nonce IS NULL) = (hash IS NULL)),
  CHECK (nonce IS NULL OR accepted_at IS NOT NULL),
  CHECK (status NOT IN ('submitted', 'confirmed', 'failed') OR nonce IS NOT NULL)
);
-- A nonce of a sender belongs to one request, ever.
CREATE UNIQUE INDEX requests_sender_nonce ON requests (chain_id, sender, nonce) WHERE nonce IS NOT NULL;
-- A signed Spend is executed at most once, whatever idempotency key it comes under.
CREATE UNIQUE INDEX requests_spend_nonce ON requests (agent_id, spend_nonce)
  WHERE spend_nonce IS NOT NULL AND status <> 'rejected';
-- Work lists: to evaluate, to sign, to follow.
CREATE INDEX requests_unevaluated ON requests (created_at) WHERE status = 'queued' AND accepted_at IS NULL;
CREATE INDEX requests_unsigned ON requests (sender, accepted_at) WHERE status = 'queued' AND accepted_at IS NOT NULL AND nonce IS NULL;
CREATE INDEX requests_open ON requests (chain_id, sender, nonce) WHERE status IN ('queued', 'submitted') AND nonce IS NOT NULL;
CREATE INDEX requests_agent_inflight ON requests (agent_id, spend_token) WHERE kind = 'spend' AND status IN ('queued', 'submitted', 'confirmed');

-- Every signed transaction of a request: the original (n = 0) and each fee replacement. Stored
-- before it is broadcast; any of them may be the one that is mined.
CREATE TABLE attempts (
  request_id text NOT NULL REFERENCES requests (id),
  n integer NOT NULL CHECK (n >= 0),
  hash text NOT NULL UNIQUE,
  raw_tx text NOT NULL,
  max_fee_per_gas numeric(78, 0) NOT NULL,
  max_priority_fee_per_gas numeric(78, 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- First time a node accepted this attempt.
  broadcast_at timestamptz,
  PRIMARY KEY (request_id, n)
);

-- The next nonce of each sender key; the row is locked while nonces are handed out.
CREATE TABLE sender_nonces (
  chain_id bigint NOT NULL,
  address text NOT NULL,
  next_nonce bigint NOT NULL CHECK (next_nonce >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, address)
);

-- Append-only: every request, decision and reason, signature, broadcast, replacement and receipt.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  request_id text,
  scope text,
  agent_id numeric(78, 0),
  event text NOT NULL,
  code text,
  reason text,
  detail jsonb,
  instance text NOT NULL
);
CREATE INDEX audit_log_request ON audit_log (request_id, id);
CREATE INDEX audit_log_agent_event ON audit_log (agent_id, event, at);

-- Gas paid for every mined transaction sent for an agent (its relayed spends, and keeper transactions
-- that name it), to be charged to the agent's infrastructure budget.
CREATE TABLE agent_gas (
  request_id text PRIMARY KEY REFERENCES requests (id),
  agent_id numeric(78, 0) NOT NULL,
  kind text NOT NULL,
  hash text NOT NULL,
  block_number bigint NOT NULL,
  gas_used bigint NOT NULL,
  effective_gas_price numeric(78, 0) NOT NULL,
  cost_wei numeric(78, 0) NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  -- Set when the treasury has debited the agent's infrastructure budget for it.
  charged_at timestamptz,
  charge_ref text
);
CREATE INDEX agent_gas_agent ON agent_gas (agent_id, recorded_at);

-- Per-agent request counts in fixed windows (rate limit shared by every instance).
CREATE TABLE rate_windows (
  agent_id numeric(78, 0) NOT NULL,
  window_start timestamptz NOT NULL,
  requests integer NOT NULL,
  PRIMARY KEY (agent_id, window_start)
);

-- Agents the circuit breaker stopped accepting, and the sentinel freeze raised for each.
CREATE TABLE agent_blocks (
  agent_id numeric(78, 0) PRIMARY KEY,
  code text NOT NULL,
  reason text NOT NULL,
  tripped_at timestamptz NOT NULL DEFAULT now(),
  freeze_request_id text,
  instance text NOT NULL
);
