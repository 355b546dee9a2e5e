-- The earnings keeper's tables (schema "earnings"). Runs with search_path set to it.

-- Every Paid event read, once: (block_number, log_index) is unique on a chain, and a reorg deletes the rows of the
-- abandoned blocks (the scanner's onRollback) before it delivers the new ones.
CREATE TABLE payments (
  block_number bigint NOT NULL,
  log_index integer NOT NULL,
  block_hash text NOT NULL,
  tx_hash text NOT NULL,
  epoch bigint NOT NULL,
  token text NOT NULL,
  agent_id numeric(78, 0) NOT NULL,
  gross numeric(78, 0) NOT NULL,
  agent_share numeric(78, 0) NOT NULL,
  PRIMARY KEY (block_number, log_index)
);
CREATE INDEX payments_epoch_token ON payments (epoch, token);

-- One row per (epoch, token) the keeper closed. status:
--   closed    tree built, reconciled with the bucket and published; root not yet seen on chain
--   refused   the leaves do not sum to the bucket (reason in `problem`); retried every tick
--   empty     every payment's agent share was zero: nothing to distribute
--   posted    the chain holds this root
--   cancelled the guardian cancelled this root; not posted again without an operator
--   conflict  the chain holds another root for this epoch and token
--   claimed   every leaf's claim batch is confirmed
--   failed    a claim batch reverted (reason in `problem`)
--   swept     expired; the rest went to the commons
CREATE TABLE epochs (
  epoch bigint NOT NULL,
  token text NOT NULL,
  status text NOT NULL CHECK (
    status IN ('closed', 'refused', 'empty', 'posted', 'cancelled', 'conflict', 'claimed', 'failed', 'swept')
  ),
  root text,
  total numeric(78, 0),
  leaves integer,
  cid text,
  uri text,
  tree_file text,
  post_tx text,
  claimable_at bigint,
  expires_at bigint,
  problem text,
  closed_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (epoch, token)
);

-- Claim batches of a posted epoch, planned once (leaf ranges in agent-id order) so that a restart sends the same
-- batches under the same keys.
CREATE TABLE claim_batches (
  epoch bigint NOT NULL,
  token text NOT NULL,
  batch integer NOT NULL,
  first_leaf integer NOT NULL,
  leaf_count integer NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'confirmed', 'failed')),
  tx_key text NOT NULL,
  tx_id text,
  problem text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (epoch, token, batch),
  FOREIGN KEY (epoch, token) REFERENCES epochs (epoch, token)
);
