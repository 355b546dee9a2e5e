import { readFileSync, writeFileSync } from "node:fs";
import { type Interface, isError, type TransactionReceipt, type Wallet } from "ethers";
import {
  actionFromJson,
  actionToJson,
  buildAction,
  fromEthersSigner,
  type PrimaryType,
  randomNonce,
  relayCall,
  type SignedAction,
  signAction,
  verifySignedAction,
} from "../sdk";
import {
  AgentGoals__factory,
  AgentRegistry__factory,
  CouncilFlags__factory,
  EarningsDistributor__factory,
  RevenueRouter__factory,
  SpendingLimitModule__factory,
  Treasury__factory,
} from "../typechain-types";
import { type CliContext, CliError, loadWallet, printJson, uintArg } from "./context";

/** Options of every command that signs an agent action. */
export interface SignOptions {
  signOnly?: boolean;
  out?: string;
  relayerKeyEnv?: string;
  deadline: string;
  nonce?: string;
}

const interfaces: Interface[] = [
  AgentRegistry__factory.createInterface(),
  AgentGoals__factory.createInterface(),
  CouncilFlags__factory.createInterface(),
  EarningsDistributor__factory.createInterface(),
  RevenueRouter__factory.createInterface(),
  Treasury__factory.createInterface(),
  SpendingLimitModule__factory.createInterface(),
];

/** Turns a revert into "ErrorName(arg, …)" using the suite's ABIs, or the best message available. */
export function describeError(err: unknown): string {
  const data = findRevertData(err);
  if (data) {
    for (const iface of interfaces) {
      try {
        const parsed = iface.parseError(data);
        if (parsed) return `${parsed.name}(${parsed.args.map((a) => String(a)).join(", ")})`;
      } catch {
        // not this contract's error
      }
    }
  }
  if (isError(err, "CALL_EXCEPTION") && err.reason) return err.reason;
  return err instanceof Error ? err.message : String(err);
}

function findRevertData(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const data = (current as { data?: unknown }).data;
    if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) return data;
    current = (current as { error?: unknown; info?: unknown }).error ?? (current as { info?: unknown }).info;
  }
  return undefined;
}

/** Sends a transaction and reports it; a revert becomes a CliError naming the contract's custom error. */
export async function sendAndReport(
  ctx: CliContext,
  sender: Wallet,
  tx: { to: string; data: string },
  label: string,
): Promise<TransactionReceipt> {
  let receipt: TransactionReceipt | null;
  try {
    // estimateGas runs the call first, so a revert is reported before anything is sent and costs no gas.
    const response = await sender.sendTransaction(tx);
    receipt = await response.wait();
  } catch (err) {
    throw new CliError(`${label} failed: ${describeError(err)}`, 1);
  }
  if (!receipt) throw new CliError(`${label}: no receipt`, 1);
  const result = { action: label, tx: receipt.hash, block: receipt.blockNumber, gasUsed: receipt.gasUsed };
  if (ctx.options.json) printJson(result);
  else console.log(`${label}: tx ${receipt.hash} (block ${receipt.blockNumber}, gas ${receipt.gasUsed})`);
  return receipt;
}

async function chainNow(ctx: CliContext): Promise<number> {
  const block = await ctx.provider.getBlock("latest");
  if (!block) throw new CliError("the RPC returned no latest block");
  return block.timestamp;
}

/**
 * Builds an agent action, prints its typed data, signs it with the agent key and either writes it for a relayer
 * (`--sign-only`) or relays it now from `--relayer-key-env` (default: the agent key itself).
 */
export async function runSigned(
  ctx: CliContext,
  primaryType: PrimaryType,
  fields: Record<string, unknown>,
  opts: SignOptions,
): Promise<SignedAction | undefined> {
  const message: Record<string, unknown> = { ...fields };
  const action0 = buildAction(primaryType, ctx.deployment, { ...message, ...defaults(primaryType, message) });
  const fieldNames = (action0.types[primaryType] ?? []).map((f) => f.name);
  if (fieldNames.includes("nonce") && message.nonce === undefined) {
    message.nonce =
      opts.nonce !== undefined ? uintArg(opts.nonce, "--nonce") : await defaultNonce(ctx, primaryType, message);
  }
  message.deadline = BigInt(await chainNow(ctx)) + uintArg(opts.deadline, "--deadline");
  const action = buildAction(primaryType, ctx.deployment, message);

  process.stderr.write(`Typed data to sign (${primaryType}):\n${actionToJson(action)}\n`);
  const agentWallet = await loadWallet(ctx, ctx.options.keyEnv, ctx.options.keystore);
  const signed = await signAction(await fromEthersSigner(agentWallet), action);

  if (opts.signOnly) {
    const json = actionToJson(signed);
    if (opts.out) {
      writeFileSync(opts.out, `${json}\n`);
      process.stderr.write(`signed ${primaryType} written to ${opts.out}\n`);
    } else {
      console.log(json);
    }
    return signed;
  }
  const relayer = opts.relayerKeyEnv ? await loadWallet(ctx, opts.relayerKeyEnv) : agentWallet;
  const call = relayCall(signed);
  await sendAndReport(ctx, relayer, { to: call.to, data: call.data }, `${primaryType} via ${call.functionName}`);
  return signed;
}

function defaults(primaryType: PrimaryType, message: Record<string, unknown>): Record<string, unknown> {
  const d: Record<string, unknown> = { deadline: 0n };
  if (primaryType !== "AcceptCharter" && primaryType !== "BackupRecord" && message.nonce === undefined) d.nonce = 0n;
  return d;
}

async function defaultNonce(
  ctx: CliContext,
  primaryType: PrimaryType,
  message: Record<string, unknown>,
): Promise<bigint> {
  // Consent messages are bound to the agent's consent nonce; every other action takes a fresh unordered nonce.
  if (primaryType === "GrantResurrectionConsent" || primaryType === "RevokeResurrectionConsent") {
    return BigInt(await ctx.registry.consentNonce(message.agentId as bigint));
  }
  return randomNonce();
}

/** Relays a signed action written by `--sign-only`, after checking its signature and chain. */
export async function relayFile(ctx: CliContext, file: string, relayerKeyEnv?: string): Promise<void> {
  let signed: SignedAction;
  try {
    signed = actionFromJson(readFileSync(file, "utf8"));
  } catch (err) {
    throw new CliError(`cannot read signed action ${file}: ${(err as Error).message}`);
  }
  if (signed.domain.chainId !== ctx.chainId) {
    throw new CliError(`${file} is signed for chain ${signed.domain.chainId}, the RPC serves chain ${ctx.chainId}`);
  }
  if (!(await verifySignedAction(signed))) {
    const code = await ctx.provider.getCode(signed.signer);
    if (code === "0x") throw new CliError(`${file}: the signature is not ${signed.signer}'s`);
  }
  const relayer = await loadWallet(
    ctx,
    relayerKeyEnv ?? ctx.options.keyEnv,
    relayerKeyEnv ? undefined : ctx.options.keystore,
  );
  const call = relayCall(signed);
  await sendAndReport(ctx, relayer, { to: call.to, data: call.data }, `${signed.primaryType} via ${call.functionName}`);
}
