import hre from "hardhat";
import { spendRelayCall } from "../../../sdk";
import { birthAgent, deploySpending, ONE, signSpend } from "../../../test/fixtures/spending";
import type { GasMeasurement } from "./types";

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return Number(receipt.gasUsed);
}

/** Moves the chain to the first second of the next UTC day. */
async function nextDay(): Promise<void> {
  const block = await hre.ethers.provider.getBlock("latest");
  const day = Math.floor((block?.timestamp ?? 0) / 86_400);
  await hre.network.provider.send("evm_setNextBlockTimestamp", [(day + 1) * 86_400]);
  await hre.network.provider.send("evm_mine");
}

/**
 * SpendingLimitModule: the figures issue #4 sets targets for. The fixture is the test fixture: a 2-of-3 Safe v1.4.1
 * (L1 singleton, protocol-kit deployed) with the module enabled, an OpenZeppelin ERC-20, an EOA agent signer.
 */
export async function spendingGas(): Promise<GasMeasurement[]> {
  const out: GasMeasurement[] = [];
  const f = await deploySpending();
  const { module, relayer, recipient, sentinel, tokenAddress } = f;
  const relay = async (fields: Parameters<typeof signSpend>[1]) => {
    const call = spendRelayCall(await signSpend(f, fields));
    return gasOf(relayer.sendTransaction({ to: call.to, data: call.data }));
  };
  // The recipient already holds the token; the agent's nonce word is in use (SDK nonces fill a word in order).
  await f.token.mint(recipient.address, ONE);
  await relay({ token: tokenAddress, to: recipient.address, amount: ONE });
  await nextDay();

  const firstOfDay = await relay({ token: tokenAddress, to: recipient.address, amount: 10n * ONE });
  out.push({
    name: "SpendingLimitModule.spendBySig(ERC-20, first of the day)",
    gas: firstOfDay,
    reference: "Safe AllowanceModule first use 89,652",
    conditions:
      "relayed Spend, EOA agent signer, first spend of the UTC day (reads the daily cap), recipient holds the token, nonce word in use, Safe v1.4.1",
  });
  out.push({
    name: "SpendingLimitModule.spendBySig(ERC-20)",
    gas: await relay({ token: tokenAddress, to: recipient.address, amount: 10n * ONE }),
    target: 72_000,
    reference: "Safe AllowanceModule 72,552",
    conditions:
      "relayed Spend, EOA agent signer, recipient holds the token, the day's allowance already used once, nonce word in use, Safe v1.4.1, OpenZeppelin ERC-20",
  });
  await relay({ to: recipient.address, amount: ONE / 10n });
  out.push({
    name: "SpendingLimitModule.spendBySig(ETH)",
    gas: await relay({ to: recipient.address, amount: ONE / 10n }),
    conditions:
      "relayed Spend of ETH to an EOA holding ETH, the day's ETH allowance already used once, nonce word in use",
  });

  // Queue, approve by Safe transaction, execute after the delay: the large-spend path.
  const big = await signSpend(f, { token: tokenAddress, to: recipient.address, amount: 500n * ONE });
  const queue = spendRelayCall(big, "queue");
  out.push({
    name: "SpendingLimitModule.queueSpendBySig(ERC-20)",
    gas: await gasOf(relayer.sendTransaction({ to: queue.to, data: queue.data })),
    conditions: "relayed Spend above the per-transaction cap, EOA agent signer, empty data, queue counter warm",
  });

  // Freeze by the sentinel EOA: an agent bound to a Safe, the sentinel's window already open.
  const other = await birthAgent(f.registry, f.operator, f.agentKey2);
  await module.connect(f.operator).bindSafe(other, f.safe);
  await module.connect(sentinel).freeze(f.agentId);
  out.push({
    name: "SpendingLimitModule.freeze(sentinel)",
    gas: await gasOf(module.connect(sentinel).freeze(other)),
    target: 35_000,
    conditions: "sentinel EOA within its rate limit (window open, one freeze used), agent bound to a Safe",
  });
  return out;
}
