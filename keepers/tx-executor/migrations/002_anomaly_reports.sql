-- Anomalies the executor reports to the spending keeper (POST /anomalies), which holds the sentinel
-- key and decides the freeze. Stored first, sent by the loop until the keeper has taken each one
-- (it deduplicates by key, so a report sent twice is recorded once).
CREATE TABLE anomaly_reports (
  id bigserial PRIMARY KEY,
  agent_id numeric(78, 0) NOT NULL,
  signal text NOT NULL CHECK (signal IN ('unknown_target', 'refused_burst', 'refused_spend')),
  detail jsonb NOT NULL,
  key text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text
);
CREATE INDEX anomaly_reports_unsent ON anomaly_reports (id) WHERE sent_at IS NULL;
