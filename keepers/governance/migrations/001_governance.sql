-- The governance keeper's own tables (schema "governance"). Runs with search_path set to that schema.

-- Proposals seen in ProposalCreated, with the state the keeper last read from the chain.
CREATE TABLE proposals (
  chain_id bigint NOT NULL,
  governor text NOT NULL,
  proposal_id numeric(78, 0) NOT NULL,
  proposer text NOT NULL,
  description text NOT NULL,
  targets jsonb NOT NULL,
  amounts jsonb NOT NULL,
  calldatas jsonb NOT NULL,
  -- Evolution ids this proposal deploys (calls to the registry's deployEvolution).
  evolution_ids jsonb NOT NULL DEFAULT '[]',
  created_block bigint NOT NULL,
  created_tx text NOT NULL,
  state text NOT NULL DEFAULT 'Pending',
  eta bigint,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, governor, proposal_id)
);
CREATE INDEX proposals_open ON proposals (chain_id, governor)
  WHERE state NOT IN ('Canceled', 'Defeated', 'Expired', 'Executed');

-- Every state change the keeper observed, for audit and metrics.
CREATE TABLE proposal_transitions (
  id bigserial PRIMARY KEY,
  chain_id bigint NOT NULL,
  governor text NOT NULL,
  proposal_id numeric(78, 0) NOT NULL,
  from_state text,
  to_state text NOT NULL,
  observed_block bigint NOT NULL,
  observed_at timestamptz NOT NULL DEFAULT now()
);

-- Evolutions seen in EvolutionProposed, with what the keeper last read of them.
CREATE TABLE evolutions (
  chain_id bigint NOT NULL,
  registry text NOT NULL,
  evolution_id numeric(78, 0) NOT NULL,
  proposer text NOT NULL,
  init_code_hash text NOT NULL,
  risk_score integer NOT NULL,
  target text NOT NULL,
  spec_uri text NOT NULL,
  proposed_block bigint NOT NULL,
  status text NOT NULL DEFAULT 'Proposed',
  staged_block bigint,
  attested_fork_block bigint,
  linked_proposal_id numeric(78, 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, registry, evolution_id)
);

-- Every simulation run, with its report's content address.
CREATE TABLE simulations (
  id bigserial PRIMARY KEY,
  chain_id bigint NOT NULL,
  registry text NOT NULL,
  evolution_id numeric(78, 0) NOT NULL,
  reason text NOT NULL CHECK (reason IN ('new', 'before-execution')),
  fork_block bigint NOT NULL,
  fork_block_hash text NOT NULL,
  actions_hash text NOT NULL,
  passed boolean NOT NULL,
  tests_run integer NOT NULL,
  invariants_checked integer NOT NULL,
  report_cid text NOT NULL,
  report_sha256 text NOT NULL,
  duration_ms integer NOT NULL,
  attest_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chain_id, registry, evolution_id, fork_block)
);

-- Every transaction the keeper decided on (queue, execute, attest), by idempotency key, with its outcome.
CREATE TABLE actions (
  key text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('queue', 'execute', 'attest')),
  proposal_id numeric(78, 0),
  evolution_id numeric(78, 0),
  tx_id text,
  status text NOT NULL,
  tx_hash text,
  revert_reason text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
