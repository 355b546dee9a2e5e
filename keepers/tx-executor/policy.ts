import type { Abi, Address, Hex } from "viem";
import type { Rejection } from "./types";

/*
 * What the executor needs to know about agent spends, in one interface: how a signed Spend is read
 * from a request, how it is checked against the policy on chain, and the transactions it sends
 * (the relayed spend, the sentinel's freeze). The SpendingLimitModule implements it (spendPolicy.ts).
 */

/** A transaction the executor will sign and send. */
export type PreparedCall = { to: Address; data: Hex; value: bigint };

/** A signed Spend as the executor handles it. */
export type ParsedSpend = {
  agentId: bigint;
  /** The Spend's own unordered nonce (the module's bitmap): one execution per signed Spend. */
  nonce: bigint;
  /** The asset spent: the zero address for ETH. */
  token: Address;
  amount: bigint;
  /** Where the money or call goes (the allow-listed target for a call). */
  target: Address;
  deadline: bigint;
  /** The relayed transaction (to the module). */
  call: PreparedCall;
  /** The Spend and its signature as plain JSON: stored, and hashed for idempotency. */
  canonical: Record<string, unknown>;
};

export type SpendCheck =
  | {
      ok: true;
      /** Gas the relayed transaction needs (estimate, margin not yet added). */
      gasEstimate: bigint;
      /** The day's allowance left for (agent, token) at block `atBlock`, for in-flight accounting. */
      allowance?: { atBlock: bigint; remaining: bigint };
    }
  | { ok: false; rejection: Rejection };

export interface SpendPolicy {
  /** The module's address. */
  readonly module: Address;
  /** Custom errors of the module (and what it calls), to decode reverts. */
  readonly errorAbi: Abi;
  /** Reads a Spend from a request body; throws HttpError(400) naming each bad field. */
  parse(body: unknown): ParsedSpend;
  /**
   * Checks a Spend before anything is sent: signature and signer (the agent's, not its operator's),
   * nonce, deadline, freeze, caps, allow-list, and a simulation of the relayed call from `relayer`.
   * Throws a retryable error when the chain cannot be read (the request then waits).
   */
  check(spend: ParsedSpend, relayer: Address): Promise<SpendCheck>;
  /** The sentinel's freeze of `agentId`. */
  freezeCall(agentId: bigint, reason: string): PreparedCall;
}
