import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { impersonateAccount, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import hre from "hardhat";
import { spendRelayCall } from "../../sdk";
import { type SpendingLimitModule, SpendingLimitModule__factory } from "../../typechain-types";
import { now, type SpendingFixture, signSpend } from "../fixtures/spending";

/** The module as the agent's Safe itself sends to it (impersonated): for refusals a Safe transaction would hide. */
export async function moduleAsSafe(f: SpendingFixture): Promise<SpendingLimitModule> {
  await impersonateAccount(f.safe);
  await setBalance(f.safe, (await hre.ethers.provider.getBalance(f.safe)) + 10n ** 18n);
  const safeSigner = await hre.ethers.getSigner(f.safe);
  return SpendingLimitModule__factory.connect(f.moduleAddress, safeSigner);
}

/** The first second of the next UTC day (the next block is mined at it). */
export async function startOfNextDay(): Promise<number> {
  const day = Math.floor((await now()) / 86_400);
  return (day + 1) * 86_400;
}

/** Mines the next block at `timestamp`. */
export async function mineAt(timestamp: number): Promise<void> {
  await time.increaseTo(timestamp);
}

/** The UTC day index of the latest block. */
export async function today(): Promise<number> {
  return Math.floor((await now()) / 86_400);
}

/** Relays a signed transfer of `amount` of `token` (default: the fixture's ERC-20) to `to` from `relayer`. */
export async function relaySpend(
  f: SpendingFixture,
  fields: Parameters<typeof signSpend>[1],
  relayer: HardhatEthersSigner = f.relayer,
  gasLimit?: bigint,
) {
  const signed = await signSpend(f, fields);
  const call = spendRelayCall(signed);
  return { tx: relayer.sendTransaction({ to: call.to, data: call.data, gasLimit }), signed };
}
