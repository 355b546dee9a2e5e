import { randomBytes } from "node:crypto";
import { type Address, type Hex, hashTypedData, type TypedDataDomain } from "viem";
import type { AgentSigner } from "./signer";
import {
  type ActionContract,
  actionContract,
  domainNames,
  type FlagPrimaryType,
  flagTypes,
  type GoalPrimaryType,
  goalTypes,
  type RegistryPrimaryType,
  registryTypes,
  type SpendPrimaryType,
  spendTypes,
  type TreasuryPrimaryType,
  treasuryTypes,
} from "./typedData";

export type PrimaryType =
  | RegistryPrimaryType
  | GoalPrimaryType
  | FlagPrimaryType
  | TreasuryPrimaryType
  | SpendPrimaryType;

/** Where an action is verified: the contract's address on a chain. */
export interface Deployment {
  chainId: number;
  registry: Address;
  goals?: Address;
  flags?: Address;
  router?: Address;
  distributor?: Address;
  treasury?: Address;
  spendingLimits?: Address;
}

const typesByContract: Record<ActionContract, Record<string, readonly { name: string; type: string }[]>> = {
  registry: registryTypes,
  goals: goalTypes,
  flags: flagTypes,
  router: treasuryTypes,
  distributor: treasuryTypes,
  treasury: treasuryTypes,
  spendingLimits: spendTypes,
};

/** A fully specified typed-data action, ready to show, sign, hash or relay. */
export interface TypedAction<P extends PrimaryType = PrimaryType> {
  domain: TypedDataDomain & { chainId: number; verifyingContract: Address };
  types: Record<string, readonly { name: string; type: string }[]>;
  primaryType: P;
  message: Record<string, unknown>;
}

/** A signed action: what a relayer needs. */
export interface SignedAction<P extends PrimaryType = PrimaryType> extends TypedAction<P> {
  signer: Address;
  signature: Hex;
  digest: Hex;
}

/** Thrown when an action cannot be built from what was given. */
export class ActionError extends Error {
  override name = "ActionError";
}

function typesOf(primaryType: PrimaryType): Record<string, readonly { name: string; type: string }[]> {
  const contract = actionContract[primaryType] as ActionContract | undefined;
  const fields = contract === undefined ? undefined : typesByContract[contract][primaryType];
  if (!fields) throw new ActionError(`unknown action ${primaryType}`);
  return { [primaryType]: fields };
}

/** The EIP-712 domain of the contract that verifies `primaryType` in `deployment`. */
export function domainFor(primaryType: PrimaryType, deployment: Deployment): TypedAction["domain"] {
  const contract: ActionContract = actionContract[primaryType];
  const verifyingContract = deployment[contract];
  if (!verifyingContract) throw new ActionError(`the deployment has no ${contract} address for ${primaryType}`);
  return { ...domainNames[contract], chainId: deployment.chainId, verifyingContract };
}

/**
 * Builds a typed action. Fields are checked against the type: every field present, nothing extra.
 * Numbers may be given as number or bigint; they are normalised to bigint.
 */
export function buildAction<P extends PrimaryType>(
  primaryType: P,
  deployment: Deployment,
  message: Record<string, unknown>,
): TypedAction<P> {
  const types = typesOf(primaryType);
  const fields = types[primaryType] ?? [];
  const normalised: Record<string, unknown> = {};
  for (const field of fields) {
    if (!(field.name in message)) throw new ActionError(`${primaryType}: missing field ${field.name}`);
    const value = message[field.name];
    normalised[field.name] =
      field.type.startsWith("uint") && (typeof value === "number" || typeof value === "string") ? BigInt(value) : value;
  }
  for (const key of Object.keys(message)) {
    if (!fields.some((f) => f.name === key)) throw new ActionError(`${primaryType}: unknown field ${key}`);
  }
  return { domain: domainFor(primaryType, deployment), types, primaryType, message: normalised };
}

/** The EIP-712 digest the contract will check. */
export function digestOf(action: TypedAction): Hex {
  return hashTypedData({
    domain: action.domain,
    types: action.types as Record<string, { name: string; type: string }[]>,
    primaryType: action.primaryType,
    message: action.message,
  });
}

/** Signs an action with the agent's key. */
export async function signAction<P extends PrimaryType>(
  signer: AgentSigner,
  action: TypedAction<P>,
): Promise<SignedAction<P>> {
  const signature = await signer.signTypedData({
    domain: action.domain,
    types: action.types,
    primaryType: action.primaryType,
    message: action.message,
  });
  return { ...action, signer: signer.address, signature, digest: digestOf(action) };
}

/**
 * A fresh unordered nonce: 64 random bits. Unordered nonces need no coordination between an agent's hosts or
 * relayers; a collision (about one in 2^32 after 2^32 messages) only makes one message fail with NonceUsed.
 */
export function randomNonce(): bigint {
  return randomBytes(8).readBigUInt64BE();
}

/** A deadline `seconds` from now (unix seconds). */
export function deadlineIn(seconds: number, now: number = Math.floor(Date.now() / 1000)): bigint {
  return BigInt(now + seconds);
}

/** JSON for display or hand-off to a relayer (`--sign-only`): bigints as decimal strings. */
export function actionToJson(action: TypedAction | SignedAction): string {
  return JSON.stringify(action, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** Parses {@link actionToJson} output back, restoring bigints for uint fields. */
export function actionFromJson(json: string): SignedAction {
  const parsed = JSON.parse(json) as SignedAction;
  const fields = parsed.types[parsed.primaryType];
  if (!fields) throw new ActionError(`JSON has no type definition for ${String(parsed.primaryType)}`);
  for (const field of fields) {
    const value = parsed.message[field.name];
    if (field.type.startsWith("uint") && value !== undefined) parsed.message[field.name] = BigInt(value as string);
  }
  return parsed;
}
