-- The spending keeper's own tables (schema "spending"). Everything derived from the chain is kept as
-- the events it came from, so that a reorg is undone by deleting the rows of the abandoned blocks.

-- SpendingLimitModule events, decoded; args as strings (addresses checksummed, numbers in decimal).
CREATE TABLE module_events (
  block_number numeric NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  block_time timestamptz,
  name text NOT NULL,
  agent_id numeric,
  queue_id numeric,
  args jsonb NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX module_events_agent ON module_events (agent_id, name, block_number DESC, log_index DESC);
CREATE INDEX module_events_queue ON module_events (queue_id, block_number DESC, log_index DESC);

-- ERC-20 transfers out of a bound Safe (WATCH_TOKENS), to be explained (by the module or the owners)
-- or reported as an anomaly.
CREATE TABLE outflows (
  block_number numeric NOT NULL,
  log_index integer NOT NULL,
  tx_hash text NOT NULL,
  token text NOT NULL,
  safe text NOT NULL,
  recipient text NOT NULL,
  amount numeric NOT NULL,
  verdict text NOT NULL DEFAULT 'unclassified' CHECK (verdict IN ('unclassified', 'module', 'owners', 'anomaly')),
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX outflows_unclassified ON outflows (verdict) WHERE verdict = 'unclassified';

-- Anomaly signals: reported by the tx-executor (POST /anomalies) or found on the chain.
CREATE TABLE anomalies (
  id bigserial PRIMARY KEY,
  agent_id numeric NOT NULL,
  signal text NOT NULL,
  source text NOT NULL CHECK (source IN ('executor', 'chain')),
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  dedupe_key text UNIQUE,
  block_number numeric,
  observed_at timestamptz NOT NULL DEFAULT now(),
  -- The freeze intent (idempotency key) that acted on it; NULL while open.
  handled_by text
);
CREATE INDEX anomalies_open ON anomalies (agent_id, observed_at) WHERE handled_by IS NULL;
