import type { Abi, Address, Chain, PublicClient, Transport } from "viem";

/** What an invariant check sees: a chain (the simulation's fork, after the proposal ran) and where things are. */
export interface InvariantContext {
  client: PublicClient<Transport, Chain | undefined>;
  /** Contract addresses by deployment-record name ("CovenantVotes", "CommonsPolicy", "Treasury", …). */
  addresses: Readonly<Record<string, Address>>;
  /** First block worth scanning for a contract's events (the deployment block). */
  fromBlock: bigint;
  /** Widest eth_getLogs range to ask for. */
  chunkBlocks: number;
}

/** A check's verdict: held (with what was checked), broken (with why), or not applicable here. */
export type InvariantResult = { ok: true; detail: string } | { ok: false; detail: string } | { skipped: string };

/**
 * A named invariant of one contract, written as code. The simulator runs every registered invariant whose contract is
 * deployed, on the fork after a proposal's actions ran; one broken invariant fails the simulation.
 */
export interface Invariant {
  /** Stable name, shown in reports: "CommonsPolicy: splits sum to 10,000 and meet the floor". */
  name: string;
  /** The deployment-record name of the contract it is about; skipped when the context has no such address. */
  contract: string;
  check(ctx: InvariantContext, abiOf: (contractName: string) => Abi): Promise<InvariantResult>;
}
