import { time } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, keccak256, type Result, type Signer, TypedDataEncoder } from "ethers";
import type { Hex } from "viem";
import {
  type AgentSigner,
  buildAction,
  type Deployment,
  type PrimaryType,
  registryTypes,
  relayCall,
  type SignedAction,
  signAction,
  toBytes32Text,
} from "../../sdk";

const coder = AbiCoder.defaultAbiCoder();

/** Short texts as the contracts store them. */
export function texts(...values: string[]): Hex[] {
  return values.map((v) => toBytes32Text(v));
}

/** The latest block's timestamp. */
export async function now(): Promise<number> {
  return time.latest();
}

/** A deadline `seconds` after the latest block. */
export async function deadlineAfter(seconds = 3600): Promise<bigint> {
  return BigInt((await time.latest()) + seconds);
}

/** Builds and signs an action with the SDK. */
export async function signed<P extends PrimaryType>(
  signer: AgentSigner,
  primaryType: P,
  deployment: Deployment,
  message: Record<string, unknown>,
): Promise<SignedAction<P>> {
  return signAction(signer, buildAction(primaryType, deployment, message));
}

/** Sends the SDK's relay call for a signed action from `from`. */
export function relay(from: Signer, action: SignedAction) {
  const call = relayCall(action);
  return from.sendTransaction({ to: call.to, data: call.data });
}

/** EIP-712 struct hash of a BackupRecord, computed independently of the contract and the SDK (ethers). */
export function backupRecordHash(m: {
  agentId: bigint;
  sequence: number | bigint;
  ciphertextHash: string;
  cid: string;
  deadline: bigint;
}): Hex {
  const types = { BackupRecord: registryTypes.BackupRecord.map((f) => ({ name: f.name, type: f.type })) };
  return TypedDataEncoder.hashStruct("BackupRecord", types, m) as Hex;
}

/** The next backup trail head: bytes28(keccak256(abi.encode(prevHead, recordHash))). */
export function nextBackupHead(prevHead: string, recordHash: string): Hex {
  return keccak256(coder.encode(["bytes28", "bytes32"], [prevHead, recordHash])).slice(0, 2 + 56) as Hex;
}

export const ZERO_HEAD28 = `0x${"00".repeat(28)}` as Hex;

/** The next goal-history head: keccak256(abi.encode(prevHead, goalId, title, priority, status, timestamp)). */
export function nextGoalHead(
  prevHead: string,
  goalId: bigint | number,
  title: string,
  priority: number | bigint,
  status: number,
  timestamp: number | bigint,
): Hex {
  return keccak256(
    coder.encode(
      ["bytes32", "uint256", "bytes32", "uint16", "uint8", "uint256"],
      [prevHead, goalId, title, priority, status, timestamp],
    ),
  ) as Hex;
}

/** The timestamp of the block that mined `tx`. */
export async function minedAt(tx: Promise<{ wait(): Promise<{ blockNumber: number } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  const { ethers } = await import("hardhat");
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (!block) throw new Error("no block");
  return block.timestamp;
}

/** A bitmap nonce far from zero, in a word other than 0, so the word/bit split is exercised. */
export function nonceAt(word: bigint, bit: bigint): bigint {
  return (word << 8n) | bit;
}

/** A contract call's struct or tuple result as plain nested data, for deep equality (ethers Results are proxies). */
export function plain(result: unknown): Record<string, unknown> {
  return (result as Result).toObject(true);
}

/** A tuple result as a plain array. */
export function plainArray(result: unknown): unknown[] {
  return (result as Result).toArray(true);
}
