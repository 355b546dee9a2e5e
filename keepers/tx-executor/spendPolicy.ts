import {
  type Abi,
  type Address,
  decodeErrorResult,
  encodeFunctionData,
  getAddress,
  type Hex,
  isAddress,
  recoverTypedDataAddress,
  slice,
} from "viem";
import { z } from "zod";
import { buildSpend, type Deployment, loadAbi, type SignedAction, spendRelayCall } from "../../sdk";
import {
  type ChainConnection,
  ConfigError,
  classifyError,
  HttpError,
  RpcError,
  revertDataOf,
  revertReasonOf,
  shortMessageOf,
} from "../shared";
import type { ParsedSpend, PreparedCall, SpendCheck, SpendPolicy } from "./policy";
import type { Rejection, RejectionCode } from "./types";

/*
 * Agent spends through the SpendingLimitModule. A request carries the agent's signed `Spend` (the
 * module's EIP-712 type, exactly as the SDK builds it) and its signature:
 *
 *   { "kind": "spend", "idempotencyKey": "…",
 *     "spend": { "agentId", "token", "to", "amount", "data", "nonce", "deadline", "gas" },
 *     "signature": "0x…" }
 *
 * Before anything is sent, at one block B: the deadline must leave time to mine; the relayed call is
 * simulated from the relayer (the module checks signature, nonce, freeze, allow-list and caps
 * itself), the gas estimated and the day's allowance read (the executor subtracts what it has in
 * flight). When the module would refuse, the policy is read to say why in plain terms: unknown
 * agent, whose key signed (an operator's key is named as such), nonce used, not bound, frozen, call
 * not allowed, over the per-transaction cap, over what is left today; else the module's decoded
 * custom error. A refusal costs no gas and takes no nonce.
 */

/** A spend must leave this long before its deadline to be mined (seconds). */
export const DEADLINE_MARGIN_SECONDS = 30n;

const decimal = (what: string) =>
  z
    .string({ error: `expected ${what} as a decimal string` })
    .regex(/^\d{1,78}$/, `expected ${what} as a decimal string`)
    .transform((v) => BigInt(v))
    .refine((v) => v < 2n ** 256n, "out of range for uint256");
const address = z
  .string({ error: "expected a 0x address" })
  .refine((a) => isAddress(a, { strict: false }), "expected a 0x address")
  .transform((a) => getAddress(a));
const bytes = (what: string) =>
  z
    .string({ error: `expected ${what} as 0x-prefixed hex` })
    .regex(/^0x([0-9a-fA-F]{2})*$/, `expected ${what} as 0x-prefixed hex bytes`)
    .transform((h) => h.toLowerCase() as Hex);

export const spendRequestSchema = z.object({
  kind: z.literal("spend"),
  idempotencyKey: z.string(),
  spend: z.strictObject(
    {
      agentId: decimal("agentId"),
      token: address,
      to: address,
      amount: decimal("amount"),
      data: bytes("data"),
      nonce: decimal("nonce"),
      deadline: decimal("deadline"),
      gas: decimal("gas"),
    },
    { error: "expected the Spend message: agentId, token, to, amount, data, nonce, deadline, gas" },
  ),
  signature: bytes("signature").refine((s) => s.length >= 132, "a signature is at least 65 bytes"),
});

/** Module errors that say which refusal it is; anything else is "simulation_reverted" with the reason. */
const ERROR_CODES: Record<string, { code: RejectionCode; anomaly?: Rejection["anomaly"] }> = {
  AgentSignedExpired: { code: "expired" },
  AgentSignedNonceUsed: { code: "spend_nonce_used" },
  AgentSignedInvalidSignature: { code: "bad_signature" },
  SpendingLimitModuleNoSafe: { code: "no_policy" },
  SpendingLimitModuleFrozen: { code: "agent_frozen" },
  SpendingLimitModuleOverPerTxCap: { code: "over_tx_cap", anomaly: "over_cap" },
  SpendingLimitModuleOverDailyCap: { code: "over_daily_cap", anomaly: "over_cap" },
  SpendingLimitModuleCallNotAllowed: { code: "call_not_allowed", anomaly: "unknown_target" },
  SpendingLimitModuleForbiddenTarget: { code: "call_not_allowed", anomaly: "unknown_target" },
};

type AgentState = { safe: Address; frozen: boolean; frozenAt: number; queueDelay: number; cold: Address };
type TokenPolicy = {
  perTxCap: bigint;
  dailyCap: bigint;
  spentToday: bigint;
  remainingToday: bigint;
  hotThreshold: bigint;
  sweepEnabled: boolean;
};

export type SpendPolicyOptions = {
  chain: ChainConnection;
  module: Address;
  /** The AgentRegistry; default: the module's `registry()`. */
  registry?: Address;
};

/** Connects to a deployed SpendingLimitModule; a wrong address is a configuration error. */
export async function createSpendPolicy(o: SpendPolicyOptions): Promise<SpendPolicy> {
  const client = o.chain.publicClient;
  const moduleAbi = loadAbi("SpendingLimitModule");
  const registryAbi = loadAbi("AgentRegistry");
  const code = await client.getCode({ address: o.module });
  if (!code || code === "0x") {
    throw new ConfigError([
      { variable: "SPENDING_MODULE", message: `no contract at ${o.module} on chain ${o.chain.chain.id}` },
    ]);
  }
  const fromModule = (await client.readContract({
    address: o.module,
    abi: moduleAbi,
    functionName: "registry",
  })) as Address;
  if (o.registry && getAddress(o.registry) !== getAddress(fromModule)) {
    throw new ConfigError([
      { variable: "AGENT_REGISTRY", message: `is ${o.registry} but the module at ${o.module} uses ${fromModule}` },
    ]);
  }
  return new SpendingLimitPolicy(o.chain, o.module, fromModule, moduleAbi, registryAbi);
}

export class SpendingLimitPolicy implements SpendPolicy {
  readonly errorAbi: Abi;
  private readonly deployment: Deployment;

  constructor(
    private readonly chain: ChainConnection,
    readonly module: Address,
    readonly registry: Address,
    private readonly moduleAbi: Abi,
    private readonly registryAbi: Abi,
  ) {
    this.errorAbi = [...moduleAbi, ...registryAbi].filter((i) => i.type === "error");
    this.deployment = { chainId: chain.chain.id, registry, spendingLimits: module };
  }

  parse(body: unknown): ParsedSpend {
    const r = spendRequestSchema.safeParse(body);
    if (!r.success) {
      const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
      throw new HttpError(
        400,
        "invalid_request",
        `request does not match the expected shape: ${issues.map((i) => `${i.path || "body"}: ${i.message}`).join("; ")}`,
        { issues },
      );
    }
    const { spend: s, signature } = r.data;
    let action: SignedAction<"Spend">;
    try {
      const typed = buildSpend(this.deployment, { ...s, gas: s.gas });
      action = { ...typed, signature, signer: "0x0000000000000000000000000000000000000000", digest: "0x" };
    } catch (err) {
      throw new HttpError(400, "invalid_request", `not a valid Spend: ${(err as Error).message}`);
    }
    const relay = spendRelayCall(action);
    return {
      agentId: s.agentId,
      nonce: s.nonce,
      token: s.token,
      amount: s.amount,
      target: s.to,
      deadline: s.deadline,
      call: { to: relay.to, data: relay.data, value: 0n },
      canonical: {
        spend: {
          agentId: s.agentId.toString(),
          token: s.token,
          to: s.to,
          amount: s.amount.toString(),
          data: s.data,
          nonce: s.nonce.toString(),
          deadline: s.deadline.toString(),
          gas: s.gas.toString(),
        },
        signature,
      },
    };
  }

  async check(spend: ParsedSpend, relayer: Address): Promise<SpendCheck> {
    try {
      return await this.checkAt(spend, relayer);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw RpcError.from(err, "cannot read the spending policy");
    }
  }

  freezeCall(agentId: bigint): PreparedCall {
    return {
      to: this.module,
      data: encodeFunctionData({ abi: this.moduleAbi, functionName: "freeze", args: [agentId] }),
      value: 0n,
    };
  }

  /**
   * The common case costs two round trips: the block, then (in parallel, at that block) the
   * simulation, the gas estimate and the token policy. Only a spend the module would refuse pays for
   * the reads that explain why in the executor's own terms (whose key signed, which limit).
   */
  private async checkAt(spend: ParsedSpend, relayer: Address): Promise<SpendCheck> {
    const client = this.chain.publicClient;
    const block = await client.getBlock({ blockTag: "latest" });
    const at = { blockNumber: block.number };
    if (spend.deadline < block.timestamp + DEADLINE_MARGIN_SECONDS) {
      return {
        ok: false,
        rejection: {
          code: "expired",
          message: `the Spend's deadline ${spend.deadline} is passed or within ${DEADLINE_MARGIN_SECONDS} s of the chain's time ${block.timestamp}`,
        },
      };
    }
    const request = { account: relayer, to: spend.call.to, data: spend.call.data, value: spend.call.value };
    const [simulation, estimate, policy] = await Promise.allSettled([
      client.call({ ...request, ...at }),
      client.estimateGas({ ...request, ...at }),
      client.readContract({
        address: this.module,
        abi: this.moduleAbi,
        functionName: "tokenPolicy",
        args: [spend.agentId, spend.token],
        ...at,
      }) as Promise<TokenPolicy>,
    ]);
    if (simulation.status === "rejected") {
      if (classifyError(simulation.reason).kind !== "revert") throw simulation.reason;
      return { ok: false, rejection: (await this.explain(spend, at)) ?? this.fromRevert(simulation.reason) };
    }
    if (estimate.status === "rejected") throw estimate.reason;
    if (policy.status === "rejected") throw policy.reason;
    return {
      ok: true,
      gasEstimate: estimate.value,
      allowance: { atBlock: block.number, remaining: policy.value.remainingToday },
    };
  }

  /**
   * Why the module would refuse `spend`, read from the chain at the same block, in the order a
   * person would ask: does the agent exist, who signed, is the nonce free, is the agent bound and
   * not frozen, is the call allowed, which limit. Undefined when the reads find nothing wrong (the
   * module's own error then speaks).
   */
  private async explain(spend: ParsedSpend, at: { blockNumber: bigint }): Promise<Rejection | undefined> {
    const client = this.chain.publicClient;
    const read = <T>(address: Address, abi: Abi, functionName: string, args: readonly unknown[]) =>
      client.readContract({ address, abi, functionName, args, ...at }) as Promise<T>;
    const msg = spend.canonical.spend as Record<string, string>;
    const data = msg.data as Hex;
    const isCall = data !== "0x";
    const id = spend.agentId;
    const no = (code: RejectionCode, message: string, anomaly?: Rejection["anomaly"]): Rejection => ({
      code,
      message,
      ...(anomaly && { anomaly }),
    });

    const [exists, signer, owner, state, nonceUsed, policy, callAllowed] = await Promise.all([
      read<boolean>(this.registry, this.registryAbi, "agentExists", [id]),
      read<Address>(this.registry, this.registryAbi, "agentSigner", [id]),
      read<Address>(this.registry, this.registryAbi, "ownerOf", [id]).catch(() => undefined),
      read<AgentState>(this.module, this.moduleAbi, "agentState", [id]),
      read<boolean>(this.module, this.moduleAbi, "isNonceUsed", [id, spend.nonce]),
      read<TokenPolicy>(this.module, this.moduleAbi, "tokenPolicy", [id, spend.token]),
      isCall && data.length >= 10
        ? read<boolean>(this.module, this.moduleAbi, "isCallAllowed", [id, spend.target, slice(data, 0, 4)])
        : Promise.resolve(true),
    ]);
    if (!exists) return no("unknown_agent", `agent ${id} does not exist`);
    if (signer === ZERO) return no("unknown_agent", `agent ${id} has no signer: its charter is not accepted`);

    // Whose key signed (an ERC-1271 signer is left to the module's own check).
    const signerCode = await client.getCode({ address: signer, ...at });
    if (!signerCode || signerCode === "0x") {
      let recovered: Address;
      try {
        recovered = await recoverTypedDataAddress({
          ...buildSpend(this.deployment, {
            agentId: id,
            token: spend.token,
            to: spend.target,
            amount: spend.amount,
            data,
            nonce: spend.nonce,
            deadline: spend.deadline,
            gas: BigInt(msg.gas!),
          }),
          signature: spend.canonical.signature as Hex,
        } as Parameters<typeof recoverTypedDataAddress>[0]);
      } catch {
        return no("bad_signature", "the signature is malformed");
      }
      if (recovered !== signer) {
        if (owner && recovered === owner) {
          return no(
            "not_agent_signer",
            `the Spend is signed by agent ${id}'s operator (${owner}), not by its agent signer (${signer}): only the agent spends`,
          );
        }
        return no("bad_signature", `the Spend is signed by ${recovered}, not by agent ${id}'s signer ${signer}`);
      }
    }
    if (nonceUsed) return no("spend_nonce_used", `nonce ${spend.nonce} of agent ${id} is already used on chain`);
    if (state.safe === ZERO) return no("no_policy", `agent ${id} is not bound to a Safe`);
    if (state.frozen) return no("agent_frozen", `agent ${id} is frozen`);
    if (spend.target === state.safe || spend.target === this.module) {
      return no("call_not_allowed", `agent ${id} may never send to or call ${spend.target}`, "unknown_target");
    }
    if (isCall && !callAllowed) {
      return no(
        "call_not_allowed",
        `agent ${id} may not call ${spend.target} with selector ${data.slice(0, 10)}`,
        "unknown_target",
      );
    }
    if (policy.dailyCap === 0n) {
      return no("no_policy", `agent ${id}'s Safe sets no limits for ${tokenName(spend.token)}: it cannot spend it`);
    }
    if (spend.amount > policy.perTxCap) {
      return no(
        "over_tx_cap",
        `${spend.amount} of ${tokenName(spend.token)} is above agent ${id}'s per-transaction cap of ${policy.perTxCap}; a larger spend can only be queued for the owners' approval`,
        "over_cap",
      );
    }
    if (spend.amount > policy.remainingToday) {
      return no(
        "over_daily_cap",
        `${spend.amount} of ${tokenName(spend.token)} is more than the ${policy.remainingToday} left of agent ${id}'s daily cap of ${policy.dailyCap}`,
        "over_cap",
      );
    }
    return undefined;
  }

  private fromRevert(err: unknown): Rejection {
    const reason = revertReasonOf(err, this.errorAbi) ?? shortMessageOf(err);
    const data = revertDataOf(err);
    let name: string | undefined;
    if (data && data.length >= 10) {
      try {
        name = decodeErrorResult({ abi: this.errorAbi, data }).errorName;
      } catch {
        name = undefined;
      }
    }
    const mapped = name ? ERROR_CODES[name] : undefined;
    return {
      code: mapped?.code ?? "simulation_reverted",
      message: `the module would revert: ${reason}`,
      revertReason: reason,
      ...(mapped?.anomaly && { anomaly: mapped.anomaly }),
    };
  }
}

const ZERO = "0x0000000000000000000000000000000000000000";

function tokenName(token: Address): string {
  return token === ZERO ? "ETH" : `token ${token}`;
}
