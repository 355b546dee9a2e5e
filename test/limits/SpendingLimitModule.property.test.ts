import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import { ETH } from "../../sdk";
import { LimitsRejectingReceiver__factory } from "../../typechain-types";
import { deploySpending, ETH_DAILY, ETH_PER_TX, ONE } from "../fixtures/spending";
import { moduleAsSafe } from "./helpers";

/*
 * For any sequence of spends, failing spends, day changes and cap changes, on the chain:
 *  - a spend succeeds exactly when it is within the per-transaction cap and what is left of the UTC day's cap;
 *  - no successful spend exceeds the per-transaction cap in force;
 *  - the sum spent in any UTC day never exceeds the daily cap in force at each spend (caps may change mid-day);
 *  - a failing call spends nothing: the Safe's balance and the day's allowance are unchanged;
 *  - the module's views report exactly the day's spending and what is left.
 * Seeded and printed; replay a failure with FC_SEED=<seed> (and FC_PATH=<path>); FC_RUNS sets the number of runs.
 */

const DAY = 86_400;
const TENTH = ONE / 10n;

type Amount =
  | { kind: "tenths"; n: number }
  | { kind: "perTx" }
  | { kind: "perTx+1" }
  | { kind: "remaining" }
  | { kind: "remaining+1" };

type Op =
  | { kind: "spend"; amount: Amount }
  | { kind: "failingSpend"; amount: Amount }
  | { kind: "advance"; to: "lastSecond" | "nextDay" | "seconds"; seconds: number }
  | { kind: "caps"; perTxTenths: number; dailyTenths: number };

const amountArb: fc.Arbitrary<Amount> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }).map((n) => ({ kind: "tenths" as const, n })) },
  { weight: 1, arbitrary: fc.constant({ kind: "perTx" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "perTx+1" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "remaining" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "remaining+1" as const }) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: amountArb.map((amount) => ({ kind: "spend" as const, amount })) },
  { weight: 1, arbitrary: amountArb.map((amount) => ({ kind: "failingSpend" as const, amount })) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        to: fc.constantFrom("lastSecond" as const, "nextDay" as const, "seconds" as const),
        seconds: fc.integer({ min: 1, max: 2 * DAY }),
      })
      .map((a) => ({ kind: "advance" as const, ...a })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 50 }))
      .map(([a, b]) => ({ kind: "caps" as const, perTxTenths: Math.min(a, b), dailyTenths: Math.max(a, b) })),
  },
);

const dayOf = (timestamp: number) => Math.floor(timestamp / DAY);

describe("SpendingLimitModule: property", () => {
  it("no day's spending exceeds the daily cap and no spend the per-transaction cap, whatever happens", async () => {
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
    const numRuns = process.env.FC_RUNS ? Number(process.env.FC_RUNS) : 20;
    console.log(`      fast-check seed ${seed} (${numRuns} runs; replay with FC_SEED=${seed})`);

    const property = fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
      const f = await loadFixture(deploySpending);
      const asSafe = await moduleAsSafe(f);
      const receiver = await new LimitsRejectingReceiver__factory(f.deployer).deploy();
      await setBalance(f.safe, 10_000n * ONE);
      const caps = { perTx: ETH_PER_TX, daily: ETH_DAILY };
      /** What the chain spent per UTC day, summed from successful spends. */
      const spentByDay = new Map<number, bigint>();
      const spentOn = (day: number) => spentByDay.get(day) ?? 0n;

      for (const op of ops) {
        if (op.kind === "advance") {
          const latest = await time.latest();
          const target =
            op.to === "seconds"
              ? latest + op.seconds
              : op.to === "nextDay"
                ? (dayOf(latest) + 1) * DAY
                : (dayOf(latest) + 1) * DAY - 1;
          if (target > latest) await time.increaseTo(target);
          continue;
        }
        if (op.kind === "caps") {
          caps.perTx = BigInt(op.perTxTenths) * TENTH;
          caps.daily = BigInt(op.dailyTenths) * TENTH;
          await asSafe.setTokenPolicy(f.agentId, ETH, caps.perTx, caps.daily);
          continue;
        }
        // A spend: the next block is the one it lands in.
        const spendDay = dayOf((await time.latest()) + 1);
        const left = caps.daily - spentOn(spendDay);
        const remaining = left > 0n ? left : 0n;
        const amount = resolve(op.amount, caps.perTx, remaining);
        const to = op.kind === "failingSpend" ? await receiver.getAddress() : f.recipient.address;
        const safeBefore = await hre.ethers.provider.getBalance(f.safe);
        const withinCaps = amount > 0n && amount <= caps.perTx && amount <= remaining;
        await time.setNextBlockTimestamp((await time.latest()) + 1);
        const tx = f.module.connect(f.agentKey).spend(f.agentId, ETH, to, amount);
        if (!withinCaps) {
          const error =
            amount === 0n
              ? "SpendingLimitModuleInvalidSpend"
              : amount > caps.perTx
                ? "SpendingLimitModuleOverPerTxCap"
                : "SpendingLimitModuleOverDailyCap";
          await expect(tx).to.be.revertedWithCustomError(f.module, error);
        } else if (op.kind === "failingSpend") {
          await expect(tx).to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallFailed");
        } else {
          await expect(tx)
            .to.emit(f.module, "Spent")
            .withArgs(f.agentId, ETH, to, amount, remaining - amount);
          const receipt = await (await tx).wait();
          const block = await hre.ethers.provider.getBlock(receipt!.blockNumber);
          const day = dayOf(block!.timestamp);
          expect(day).to.equal(spendDay);
          spentByDay.set(day, spentOn(day) + amount);
          // The invariants, on what the chain did.
          expect(amount <= caps.perTx, "a spend exceeded the per-transaction cap").to.equal(true);
          expect(spentOn(day) <= caps.daily, "a day's spending exceeded the daily cap").to.equal(true);
        }
        const spentNow = safeBefore - (await hre.ethers.provider.getBalance(f.safe));
        expect(spentNow).to.equal(withinCaps && op.kind === "spend" ? amount : 0n);

        // The views, read in the context of the latest block.
        const latest = await hre.ethers.provider.getBlock("latest");
        const policy = await f.module.tokenPolicy(f.agentId, ETH, { blockTag: latest!.number });
        const today = spentOn(dayOf(latest!.timestamp));
        expect(policy.spentToday).to.equal(today);
        expect(policy.remainingToday).to.equal(caps.daily > today ? caps.daily - today : 0n);
      }
    });

    await fc.assert(property, {
      seed,
      numRuns,
      path: process.env.FC_PATH,
      endOnFailure: true,
      verbose: fc.VerbosityLevel.Verbose,
    });
  });
});

function resolve(a: Amount, perTx: bigint, remaining: bigint): bigint {
  switch (a.kind) {
    case "tenths":
      return BigInt(a.n) * TENTH;
    case "perTx":
      return perTx;
    case "perTx+1":
      return perTx + 1n;
    case "remaining":
      return remaining;
    case "remaining+1":
      return remaining + 1n;
  }
}
