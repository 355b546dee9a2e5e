import type { Address, Hex } from "viem";
import type { EvolutionStatusName, ProposalStateName } from "../../sdk/governance";
import { ident, type Queryable } from "../shared";
import type { ActionStatus, EvolutionView, ProposalView } from "./decide";

/*
 * The keeper's tables (migrations/001_governance.sql). Every function takes the Queryable to run on, so the log
 * handlers write inside the scanner's transaction and the rest outside.
 */

export interface ProposalRow {
  proposalId: bigint;
  proposer: Address;
  description: string;
  targets: Address[];
  values: bigint[];
  calldatas: Hex[];
  evolutionIds: bigint[];
  createdBlock: bigint;
  createdTx: Hex;
}

export interface EvolutionRow {
  evolutionId: bigint;
  proposer: Address;
  initCodeHash: Hex;
  riskScore: number;
  target: Address;
  specUri: string;
  proposedBlock: bigint;
}

export class GovernanceTables {
  private readonly t: Record<"proposals" | "transitions" | "evolutions" | "simulations" | "actions", string>;

  constructor(
    schema: string,
    private readonly chainId: number,
    private readonly governor: Address,
    private readonly registry: Address,
  ) {
    const s = ident(schema);
    this.t = {
      proposals: `${s}.proposals`,
      transitions: `${s}.proposal_transitions`,
      evolutions: `${s}.evolutions`,
      simulations: `${s}.simulations`,
      actions: `${s}.actions`,
    };
  }

  async insertProposal(db: Queryable, p: ProposalRow): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t.proposals}
         (chain_id, governor, proposal_id, proposer, description, targets, amounts, calldatas, evolution_ids,
          created_block, created_tx)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (chain_id, governor, proposal_id) DO NOTHING`,
      [
        this.chainId,
        this.governor,
        p.proposalId,
        p.proposer,
        p.description,
        JSON.stringify(p.targets),
        JSON.stringify(p.values.map(String)),
        JSON.stringify(p.calldatas),
        JSON.stringify(p.evolutionIds.map(String)),
        p.createdBlock,
        p.createdTx,
      ],
    );
  }

  async insertEvolution(db: Queryable, e: EvolutionRow): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t.evolutions}
         (chain_id, registry, evolution_id, proposer, init_code_hash, risk_score, target, spec_uri, proposed_block)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (chain_id, registry, evolution_id) DO NOTHING`,
      [
        this.chainId,
        this.registry,
        e.evolutionId,
        e.proposer,
        e.initCodeHash,
        e.riskScore,
        e.target,
        e.specUri,
        e.proposedBlock,
      ],
    );
  }

  /** Forgets what was learnt from blocks a reorg replaced. */
  async rollbackProposals(db: Queryable, fromBlock: bigint): Promise<void> {
    await db.query(`DELETE FROM ${this.t.proposals} WHERE chain_id = $1 AND governor = $2 AND created_block >= $3`, [
      this.chainId,
      this.governor,
      fromBlock,
    ]);
  }

  async rollbackEvolutions(db: Queryable, fromBlock: bigint): Promise<void> {
    await db.query(`DELETE FROM ${this.t.evolutions} WHERE chain_id = $1 AND registry = $2 AND proposed_block >= $3`, [
      this.chainId,
      this.registry,
      fromBlock,
    ]);
  }

  /** Proposals that can still change state. */
  async openProposals(db: Queryable): Promise<(ProposalView & { targets: Address[] })[]> {
    const { rows } = await db.query<{
      proposal_id: string;
      state: ProposalStateName;
      eta: string | null;
      evolution_ids: string[];
      targets: Address[];
    }>(
      `SELECT proposal_id, state, eta, evolution_ids, targets FROM ${this.t.proposals}
        WHERE chain_id = $1 AND governor = $2 AND state NOT IN ('Canceled', 'Defeated', 'Expired', 'Executed')
        ORDER BY proposal_id`,
      [this.chainId, this.governor],
    );
    return rows.map((r) => ({
      id: BigInt(r.proposal_id),
      state: r.state,
      eta: BigInt(r.eta ?? 0),
      evolutionIds: r.evolution_ids.map((id) => BigInt(id)),
      targets: r.targets,
    }));
  }

  /** Records a state read from the chain; returns the previous state when it changed. */
  async setProposalState(
    db: Queryable,
    id: bigint,
    state: ProposalStateName,
    eta: bigint,
    block: bigint,
  ): Promise<{ changed: boolean; from: ProposalStateName }> {
    const { rows } = await db.query<{ state: ProposalStateName }>(
      `SELECT state FROM ${this.t.proposals} WHERE chain_id = $1 AND governor = $2 AND proposal_id = $3`,
      [this.chainId, this.governor, id],
    );
    const from = rows[0]?.state ?? "Pending";
    if (from === state) {
      await db.query(
        `UPDATE ${this.t.proposals} SET eta = $4 WHERE chain_id = $1 AND governor = $2 AND proposal_id = $3 AND eta IS DISTINCT FROM $4`,
        [this.chainId, this.governor, id, eta],
      );
      return { changed: false, from };
    }
    await db.query(
      `UPDATE ${this.t.proposals} SET state = $4, eta = $5, updated_at = now()
        WHERE chain_id = $1 AND governor = $2 AND proposal_id = $3`,
      [this.chainId, this.governor, id, state, eta],
    );
    await db.query(
      `INSERT INTO ${this.t.transitions} (chain_id, governor, proposal_id, from_state, to_state, observed_block)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [this.chainId, this.governor, id, from, state, block],
    );
    return { changed: true, from };
  }

  async transitions(db: Queryable, id: bigint): Promise<{ from: string | null; to: string }[]> {
    const { rows } = await db.query<{ from_state: string | null; to_state: string }>(
      `SELECT from_state, to_state FROM ${this.t.transitions}
        WHERE chain_id = $1 AND governor = $2 AND proposal_id = $3 ORDER BY id`,
      [this.chainId, this.governor, id],
    );
    return rows.map((r) => ({ from: r.from_state, to: r.to_state }));
  }

  async stateCounts(db: Queryable): Promise<Map<string, number>> {
    const { rows } = await db.query<{ state: string; n: string }>(
      `SELECT state, count(*) AS n FROM ${this.t.proposals} WHERE chain_id = $1 AND governor = $2 GROUP BY state`,
      [this.chainId, this.governor],
    );
    return new Map(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Evolutions that can still move (not deployed-and-done, rolled back or rejected). */
  async openEvolutions(db: Queryable): Promise<(EvolutionRow & { status: EvolutionStatusName })[]> {
    const { rows } = await db.query<{
      evolution_id: string;
      proposer: Address;
      init_code_hash: Hex;
      risk_score: number;
      target: Address;
      spec_uri: string;
      proposed_block: string;
      status: EvolutionStatusName;
    }>(
      `SELECT * FROM ${this.t.evolutions}
        WHERE chain_id = $1 AND registry = $2 AND status NOT IN ('RolledBack', 'Rejected')
        ORDER BY evolution_id`,
      [this.chainId, this.registry],
    );
    return rows.map((r) => ({
      evolutionId: BigInt(r.evolution_id),
      proposer: r.proposer,
      initCodeHash: r.init_code_hash,
      riskScore: r.risk_score,
      target: r.target,
      specUri: r.spec_uri,
      proposedBlock: BigInt(r.proposed_block),
      status: r.status,
    }));
  }

  async updateEvolution(db: Queryable, v: EvolutionView): Promise<boolean> {
    const r = await db.query(
      `UPDATE ${this.t.evolutions}
          SET status = $4, staged_block = $5, attested_fork_block = $6, linked_proposal_id = $7, updated_at = now()
        WHERE chain_id = $1 AND registry = $2 AND evolution_id = $3
          AND (status, staged_block, attested_fork_block, linked_proposal_id)
              IS DISTINCT FROM ($4, $5::bigint, $6::bigint, $7::numeric)`,
      [
        this.chainId,
        this.registry,
        v.id,
        v.status,
        v.staged ? v.stagedBlock : null,
        v.attestedForkBlock === 0n ? null : v.attestedForkBlock,
        v.linkedProposalId ?? null,
      ],
    );
    return r.rowCount > 0;
  }

  async evolutionStatusCounts(db: Queryable): Promise<Map<string, number>> {
    const { rows } = await db.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM ${this.t.evolutions} WHERE chain_id = $1 AND registry = $2 GROUP BY status`,
      [this.chainId, this.registry],
    );
    return new Map(rows.map((r) => [r.status, Number(r.n)]));
  }

  async insertSimulation(
    db: Queryable,
    s: {
      evolutionId: bigint;
      reason: string;
      forkBlock: bigint;
      forkBlockHash: Hex;
      actionsHash: Hex;
      passed: boolean;
      testsRun: number;
      invariantsChecked: number;
      cid: string;
      sha256: Hex;
      durationMs: number;
      attestKey: string;
    },
  ): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t.simulations}
         (chain_id, registry, evolution_id, reason, fork_block, fork_block_hash, actions_hash, passed, tests_run,
          invariants_checked, report_cid, report_sha256, duration_ms, attest_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (chain_id, registry, evolution_id, fork_block) DO NOTHING`,
      [
        this.chainId,
        this.registry,
        s.evolutionId,
        s.reason,
        s.forkBlock,
        s.forkBlockHash,
        s.actionsHash,
        s.passed,
        s.testsRun,
        s.invariantsChecked,
        s.cid,
        s.sha256,
        s.durationMs,
        s.attestKey,
      ],
    );
  }

  async simulations(db: Queryable, evolutionId: bigint) {
    const { rows } = await db.query<{
      reason: string;
      fork_block: string;
      passed: boolean;
      report_cid: string;
      report_sha256: string;
      attest_key: string;
    }>(
      `SELECT reason, fork_block, passed, report_cid, report_sha256, attest_key FROM ${this.t.simulations}
        WHERE chain_id = $1 AND registry = $2 AND evolution_id = $3 ORDER BY fork_block`,
      [this.chainId, this.registry, evolutionId],
    );
    return rows;
  }

  async recordAction(
    db: Queryable,
    a: {
      key: string;
      kind: "queue" | "execute" | "attest";
      proposalId?: bigint;
      evolutionId?: bigint;
      txId?: string;
      status: ActionStatus;
      txHash?: string;
      revertReason?: string;
      error?: string;
    },
  ): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t.actions} (key, kind, proposal_id, evolution_id, tx_id, status, tx_hash, revert_reason, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (key) DO UPDATE
         SET tx_id = excluded.tx_id, status = excluded.status, tx_hash = excluded.tx_hash,
             revert_reason = excluded.revert_reason, error = excluded.error, updated_at = now()`,
      [
        a.key,
        a.kind,
        a.proposalId ?? null,
        a.evolutionId ?? null,
        a.txId ?? null,
        a.status,
        a.txHash ?? null,
        a.revertReason ?? null,
        a.error ?? null,
      ],
    );
  }

  async actions(db: Queryable): Promise<Map<string, ActionStatus>> {
    const { rows } = await db.query<{ key: string; status: ActionStatus }>(`SELECT key, status FROM ${this.t.actions}`);
    return new Map(rows.map((r) => [r.key, r.status]));
  }

  async openActions(db: Queryable): Promise<{ key: string; kind: "queue" | "execute" | "attest"; txId: string }[]> {
    const { rows } = await db.query<{ key: string; kind: "queue" | "execute" | "attest"; tx_id: string }>(
      `SELECT key, kind, tx_id FROM ${this.t.actions} WHERE status IN ('queued', 'submitted') AND tx_id IS NOT NULL`,
    );
    return rows.map((r) => ({ key: r.key, kind: r.kind, txId: r.tx_id }));
  }

  async action(db: Queryable, key: string) {
    const { rows } = await db.query<{ status: ActionStatus; revert_reason: string | null; tx_hash: string | null }>(
      `SELECT status, revert_reason, tx_hash FROM ${this.t.actions} WHERE key = $1`,
      [key],
    );
    return rows[0];
  }
}
