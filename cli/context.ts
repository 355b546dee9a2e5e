import { readFileSync } from "node:fs";
import { JsonRpcProvider, Wallet } from "ethers";
import { addressOf, type DeploymentRecord, deploymentPath, readDeployment } from "../deploy/records";
import type { Deployment } from "../sdk";
import {
  type AgentGoals,
  AgentGoals__factory,
  type AgentRegistry,
  AgentRegistry__factory,
  type CouncilFlags,
  CouncilFlags__factory,
} from "../typechain-types";

/** Global options every command shares. */
export interface GlobalOptions {
  rpc: string;
  deployment?: string;
  keyEnv: string;
  keystore?: string;
  json?: boolean;
}

/**
 * An error printed without a stack trace. Exit code 2 (the default) for bad input, 1 for a transaction that reverted
 * or failed: the code is set where the error is raised, never guessed from its message.
 */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
  }
}

/** A non-negative integer argument (an id, a nonce, a number of seconds), or a CliError naming it. */
export function uintArg(value: string, what: string): bigint {
  if (!/^\d+$/.test(value)) throw new CliError(`${what} must be a non-negative integer, got "${value}"`);
  return BigInt(value);
}

export interface CliContext {
  options: GlobalOptions;
  provider: JsonRpcProvider;
  chainId: number;
  record: DeploymentRecord;
  deployment: Deployment;
  registry: AgentRegistry;
  goals: AgentGoals;
  flags: CouncilFlags;
}

/** Connects to the RPC and loads the deployment record; fails with a clear message on either. */
export async function loadContext(options: GlobalOptions): Promise<CliContext> {
  // staticNetwork: one chain id for the session; cacheTimeout -1: fresh nonces against automining nodes.
  const provider = new JsonRpcProvider(options.rpc, undefined, { staticNetwork: true, cacheTimeout: -1 });
  let chainId: number;
  try {
    chainId = Number(await provider.send("eth_chainId", []));
  } catch (err) {
    provider.destroy();
    throw new CliError(`cannot reach the RPC at ${options.rpc}: ${(err as Error).message}`);
  }
  const file = options.deployment ?? deploymentPath(chainId);
  let record: DeploymentRecord;
  try {
    record = readDeployment(file);
  } catch (err) {
    provider.destroy();
    throw new CliError((err as Error).message);
  }
  if (record.chainId !== chainId) {
    provider.destroy();
    throw new CliError(`${file} is for chain ${record.chainId} but the RPC serves chain ${chainId}`);
  }
  const deployment: Deployment = {
    chainId,
    registry: addressOf(record, "AgentRegistry"),
    goals: addressOf(record, "AgentGoals"),
    flags: addressOf(record, "CouncilFlags"),
    spendingLimits: record.contracts.SpendingLimitModule?.address,
  };
  return {
    options,
    provider,
    chainId,
    record,
    deployment,
    registry: AgentRegistry__factory.connect(deployment.registry, provider),
    goals: AgentGoals__factory.connect(deployment.goals as string, provider),
    flags: CouncilFlags__factory.connect(deployment.flags as string, provider),
  };
}

/**
 * Loads a key: from an encrypted JSON keystore (password in COVENANT_KEYSTORE_PASSWORD) when `keystore` is given,
 * otherwise from the environment variable `envName`. Keys never come from the command line, where they would be
 * kept in shell history and visible to other users in the process list.
 */
export async function loadWallet(ctx: CliContext, envName: string, keystore?: string): Promise<Wallet> {
  if (keystore) {
    const password = process.env.COVENANT_KEYSTORE_PASSWORD;
    if (!password) throw new CliError("COVENANT_KEYSTORE_PASSWORD must be set to open the keystore");
    let json: string;
    try {
      json = readFileSync(keystore, "utf8");
    } catch (err) {
      throw new CliError(`cannot read keystore ${keystore}: ${(err as Error).message}`);
    }
    try {
      const wallet = await Wallet.fromEncryptedJson(json, password);
      return new Wallet(wallet.privateKey, ctx.provider);
    } catch {
      throw new CliError(`cannot decrypt keystore ${keystore}: wrong password or not a keystore`);
    }
  }
  const key = process.env[envName];
  if (!key) throw new CliError(`set ${envName} to a private key (0x-prefixed hex) or pass --keystore <file>`);
  try {
    return new Wallet(key, ctx.provider);
  } catch {
    throw new CliError(`${envName} is not a valid private key`);
  }
}

/** Prints a value as JSON (bigints as decimal strings). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2));
}
