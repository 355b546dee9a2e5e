import { randomBytes } from "node:crypto";
import { type Address, type Hex, hashTypedData } from "viem";
import { buildAction, type Deployment, type TypedAction } from "./actions";
import { approveSpendTypes, domainNames } from "./typedData";

/** ETH in a `Spend`'s `token` field (and the token of call values). */
export const ETH = "0x0000000000000000000000000000000000000000" as Address;

/** The nonce the module reports in spend events for a direct call by the agent signer. */
export const DIRECT_CALL = 2n ** 256n - 1n;

/** Queue states, as the contract's `QueueStatus`. */
export const QueueStatus = { None: 0, Pending: 1, Approved: 2, Executed: 3, Vetoed: 4, Cancelled: 5 } as const;
export type QueueStatusName = keyof typeof QueueStatus;

export function queueStatusName(status: number | bigint): QueueStatusName {
  const entry = Object.entries(QueueStatus).find(([, v]) => v === Number(status));
  if (!entry) throw new Error(`unknown queue status ${status}`);
  return entry[0] as QueueStatusName;
}

/** What a `Spend` says. `token` defaults to ETH, `data` to a plain transfer. */
export interface SpendRequest {
  agentId: bigint | number;
  token?: Address;
  to: Address;
  amount: bigint;
  data?: Hex;
  nonce: bigint;
  deadline: bigint;
  /** Gas the call is given (a token transfer to a holder needs about 35,000; 60,000 is a safe default). */
  gas: bigint | number;
}

/** Gas to sign for an ERC-20 transfer or an ETH transfer to an account without code. */
export const DEFAULT_TRANSFER_GAS = 60_000n;

/** Builds the agent's `Spend` for the deployment's SpendingLimitModule. */
export function buildSpend(deployment: Deployment, request: SpendRequest): TypedAction<"Spend"> {
  if (request.data && request.data !== "0x" && request.token && BigInt(request.token) !== 0n) {
    throw new Error("a Spend that calls (data set) carries its ETH value in amount and token 0");
  }
  return buildAction("Spend", deployment, {
    agentId: BigInt(request.agentId),
    token: request.token ?? ETH,
    to: request.to,
    amount: request.amount,
    data: request.data ?? "0x",
    nonce: request.nonce,
    deadline: request.deadline,
    gas: BigInt(request.gas),
  });
}

/**
 * Unordered nonces for spends that share a bitmap word: a random 56-bit word, then its 256 bits in order, then a new
 * random word. The module stores one bit per nonce in a 256-bit word per agent; writing a bit into a word already in
 * use costs 5,000 gas, into a fresh word 22,100. Different hosts (different random words) never collide in practice;
 * a collision only makes one spend fail with AgentSignedNonceUsed, to be signed again.
 */
export class SpendNonces {
  private word: bigint;
  private bit = 0n;

  constructor(word?: bigint) {
    this.word = word ?? SpendNonces.randomWord();
  }

  static randomWord(): bigint {
    return BigInt(`0x${randomBytes(7).toString("hex")}`);
  }

  next(): bigint {
    if (this.bit === 256n) {
      this.word = SpendNonces.randomWord();
      this.bit = 0n;
    }
    return (this.word << 8n) | this.bit++;
  }
}

/** A queued spend as the module's `queuedSpend` view returns it. */
export interface QueuedSpendView {
  agentId: bigint;
  safe: Address;
  token: Address;
  to: Address;
  amount: bigint;
  data: Hex;
  gas: bigint;
  queuedAt: bigint;
  executableAt: bigint;
  status: number | bigint;
}

/** A `queuedSpend(id)` result (ethers or viem) as a plain {@link QueuedSpendView}. */
export function toQueuedSpendView(q: {
  agentId: bigint;
  safe: string;
  token: string;
  to: string;
  amount: bigint;
  data: string;
  gas: bigint;
  queuedAt: bigint;
  executableAt: bigint;
  status: bigint | number;
}): QueuedSpendView {
  return {
    agentId: q.agentId,
    safe: q.safe as Address,
    token: q.token as Address,
    to: q.to as Address,
    amount: q.amount,
    data: q.data as Hex,
    gas: q.gas,
    queuedAt: q.queuedAt,
    executableAt: q.executableAt,
    status: q.status,
  };
}

/**
 * The `ApproveSpend` the Safe's owners sign for queued spend `queueId`, as EIP-712 typed data for protocol-kit's
 * `createMessage` (the Safe wraps it in a Safe message, so the threshold of owners must sign).
 */
export function approveSpendTypedData(
  chainId: number,
  module: Address,
  queueId: bigint,
  queued: Pick<QueuedSpendView, "agentId" | "token" | "to" | "amount" | "data" | "gas">,
) {
  return {
    domain: { ...domainNames.spendingLimits, chainId, verifyingContract: module },
    types: { ApproveSpend: approveSpendTypes.ApproveSpend.map((f) => ({ name: f.name, type: f.type })) },
    primaryType: "ApproveSpend" as const,
    message: {
      queueId,
      agentId: BigInt(queued.agentId),
      token: queued.token,
      to: queued.to,
      amount: BigInt(queued.amount),
      data: queued.data,
      gas: BigInt(queued.gas),
    },
  };
}

/** The digest the module's `approvalDigest(queueId)` returns. */
export function approveSpendDigest(typedData: ReturnType<typeof approveSpendTypedData>): Hex {
  return hashTypedData(typedData);
}
