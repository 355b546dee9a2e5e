-- Relayed gas charged to the agents' infrastructure budgets (charges.ts): when a row was claimed for a charge
-- batch (charge_ref holds the batch's idempotency key), so an instance releases only claims that have gone stale.
ALTER TABLE agent_gas ADD COLUMN charge_claimed_at timestamptz;
CREATE INDEX agent_gas_uncharged ON agent_gas (recorded_at, request_id) WHERE charged_at IS NULL;
