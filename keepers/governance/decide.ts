import type { Address } from "viem";
import type { EvolutionStatusName, ProposalStateName } from "../../sdk/governance";

/*
 * The pure decision step: the chain's state as the keeper last read it, in; the transactions and simulations it
 * intends, out. No I/O here, so every rule can be tested on plain data.
 */

/** A proposal as the keeper sees it. */
export interface ProposalView {
  id: bigint;
  state: ProposalStateName;
  /** The governor's eta (timelock delay plus risk delay), zero until queued. */
  eta: bigint;
  /** Evolutions the proposal deploys. */
  evolutionIds: bigint[];
}

/** An evolution as the keeper sees it. */
export interface EvolutionView {
  id: bigint;
  status: EvolutionStatusName;
  staged: boolean;
  stagedBlock: bigint;
  /** The latest attestation's fork block (zero when none). */
  attestedForkBlock: bigint;
  /** The governance proposal carrying it, when linked. */
  linkedProposalId?: bigint;
  target: Address;
}

/** What became of an earlier transaction with this idempotency key (absent: never submitted). */
export type ActionStatus = "queued" | "submitted" | "confirmed" | "failed" | "rejected";

export interface DecideInput {
  chainId: number;
  governor: Address;
  registry: Address;
  /** Head block and its timestamp. */
  head: bigint;
  now: bigint;
  /** Blocks deep the keeper forks at (its confirmations). */
  confirmations: bigint;
  /** Re-simulate before execution when the attestation forked more than this many blocks behind the head. */
  resimulateDistance: bigint;
  simulate: boolean;
  execute: boolean;
  proposals: ProposalView[];
  evolutions: EvolutionView[];
  actions: ReadonlyMap<string, ActionStatus>;
}

export type Intent =
  | { kind: "queue"; key: string; proposalId: bigint }
  | { kind: "execute"; key: string; proposalId: bigint }
  | {
      kind: "simulate";
      reason: "new" | "before-execution";
      evolutionId: bigint;
      forkBlock: bigint;
      /** The governance proposal whose actions to simulate (absent: the evolution's canonical actions). */
      proposalId?: bigint;
    };

/** Idempotency keys: one transaction per action, across restarts and instances. */
export const keys = {
  queue: (chainId: number, governor: Address, id: bigint) => `gov:${chainId}:${governor.toLowerCase()}:queue:${id}`,
  /** An evolution proposal's execution depends on its attestation: a new attestation allows a new attempt. */
  execute: (chainId: number, governor: Address, id: bigint, attestedForkBlock?: bigint) =>
    `gov:${chainId}:${governor.toLowerCase()}:execute:${id}${attestedForkBlock === undefined ? "" : `:${attestedForkBlock}`}`,
  attest: (chainId: number, registry: Address, evolutionId: bigint, forkBlock: bigint) =>
    `gov:${chainId}:${registry.toLowerCase()}:attest:${evolutionId}:${forkBlock}`,
};

/** Sent, mined or failed: the key is spent. Only a rejection (nothing sent) may be tried again. */
function spent(status: ActionStatus | undefined): boolean {
  return status !== undefined && status !== "rejected";
}

/**
 * Decides, for every open proposal and evolution:
 * - a new evolution with staged code and no attestation is simulated at (head − confirmations);
 * - a Succeeded proposal is queued;
 * - a Queued proposal whose eta has come is executed; if it deploys an evolution whose attestation forked more than
 *   `resimulateDistance` blocks ago, it is simulated again first (and executed on a later tick);
 * - nothing is done twice: an action whose key was sent, mined or failed is not decided again.
 * At most one simulation per call (they are the heavy part of a tick).
 */
export function decide(input: DecideInput): Intent[] {
  const intents: Intent[] = [];
  const forkBlock = input.head - input.confirmations;
  let simulation: Intent | undefined;
  const evolutions = new Map(input.evolutions.map((e) => [e.id, e]));

  if (input.simulate) {
    for (const e of input.evolutions) {
      if (e.status !== "Proposed" || !e.staged || e.attestedForkBlock !== 0n) continue;
      if (forkBlock < e.stagedBlock) continue; // the staging is not deep enough yet
      simulation ??= { kind: "simulate", reason: "new", evolutionId: e.id, forkBlock };
    }
  }

  for (const p of input.proposals) {
    if (p.state === "Succeeded" && input.execute) {
      const key = keys.queue(input.chainId, input.governor, p.id);
      if (!spent(input.actions.get(key))) intents.push({ kind: "queue", key, proposalId: p.id });
      continue;
    }
    if (p.state !== "Queued" || !input.execute || p.eta === 0n || input.now < p.eta) continue;
    const linked = p.evolutionIds.map((id) => evolutions.get(id)).filter((e) => e !== undefined);
    // A simulation failed since the vote: the proposal cannot run (the guardian should cancel it).
    if (linked.some((e) => e.status === "Rejected")) continue;
    const stale = linked.find(
      (e) => e.status === "Linked" && e.attestedForkBlock + input.resimulateDistance < input.head,
    );
    if (stale) {
      if (input.simulate && stale.attestedForkBlock < forkBlock) {
        simulation = {
          kind: "simulate",
          reason: "before-execution",
          evolutionId: stale.id,
          forkBlock,
          proposalId: p.id,
        };
      }
      continue;
    }
    const attested = linked.length === 0 ? undefined : linked.reduce((m, e) => maxBigint(m, e.attestedForkBlock), 0n);
    const key = keys.execute(input.chainId, input.governor, p.id, attested);
    if (!spent(input.actions.get(key))) intents.push({ kind: "execute", key, proposalId: p.id });
  }

  if (simulation) intents.unshift(simulation);
  return intents;
}

/** The larger of two bigints (Math.max takes numbers only). */
function maxBigint(a: bigint, b: bigint): bigint {
  if (a >= b) return a;
  return b;
}
