import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import type { EarningsTree } from "../../keepers/earnings/tree";
import { revenueShareCall, toBytes32Text } from "../../sdk";
import { COMMONS_FLOOR, deployTreasury } from "../fixtures/treasury";
import { closeEpoch, ETH, passChallengeWindow, postEpoch, ref, sign, splitOf } from "./helpers";

/*
 * Exact accounting, for any payments, split configurations and claims: every wei paid in is, at the end, exactly in
 * one place: withdrawn by or still credited to a payee, withdrawn by or still in an agent's account, in an agent's
 * budget, in the commons, left in an opened epoch or in an unopened bucket. Each of those is compared with a model
 * of the rules, party by party, so nobody is paid another's share; duplicate claims pay nothing.
 *
 * Replay a failure with TREASURY_PROPERTY_SEED=<seed> (the seed is printed on failure and at the start).
 */

const RUNS = Number(process.env.TREASURY_PROPERTY_RUNS ?? 8);
const SEED = process.env.TREASURY_PROPERTY_SEED ? Number(process.env.TREASURY_PROPERTY_SEED) : Date.now() % 2 ** 31;

type Tok = "eth" | "erc20";

type EpochPlan = {
  payments: { agent: number; token: Tok; amount: bigint }[];
  shareChanges: { agent: number; agentBps: number }[];
  splitChanges: { agent: number; personalBps: number; infrastructureBps: number }[];
  payeeChanges: { agent: number; named: boolean }[];
};

type Plan = {
  epochs: EpochPlan[];
  claims: { epoch: number; token: Tok; agent: number; batch: boolean }[];
  sweep: boolean;
  withdrawPayees: boolean[];
  withdrawAgents: boolean[];
};

const AGENTS = 3;

const splitArb = fc
  .record({ agent: fc.integer({ min: 0, max: AGENTS - 1 }), personalBps: fc.integer({ min: 0, max: 9_000 }) })
  .chain(({ agent, personalBps }) =>
    fc
      .integer({ min: 0, max: 10_000 - COMMONS_FLOOR - personalBps })
      .map((infrastructureBps) => ({ agent, personalBps, infrastructureBps })),
  );

const epochArb: fc.Arbitrary<EpochPlan> = fc.record({
  payments: fc.array(
    fc.record({
      agent: fc.integer({ min: 0, max: AGENTS - 1 }),
      token: fc.constantFrom<Tok>("eth", "erc20"),
      amount: fc.oneof(fc.bigInt({ min: 1n, max: 1_000n }), fc.bigInt({ min: 1n, max: 10n ** 18n })),
    }),
    { maxLength: 5 },
  ),
  shareChanges: fc.array(
    fc.record({ agent: fc.integer({ min: 0, max: AGENTS - 1 }), agentBps: fc.integer({ min: 0, max: 10_000 }) }),
    { maxLength: 1 },
  ),
  splitChanges: fc.array(splitArb, { maxLength: 2 }),
  payeeChanges: fc.array(fc.record({ agent: fc.integer({ min: 0, max: AGENTS - 1 }), named: fc.boolean() }), {
    maxLength: 1,
  }),
});

const planArb: fc.Arbitrary<Plan> = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.record({
    epochs: fc.array(epochArb, { minLength: n, maxLength: n }),
    claims: fc.array(
      fc.record({
        epoch: fc.integer({ min: 0, max: n - 1 }),
        token: fc.constantFrom<Tok>("eth", "erc20"),
        agent: fc.integer({ min: 0, max: AGENTS - 1 }),
        batch: fc.boolean(),
      }),
      { maxLength: 10 },
    ),
    sweep: fc.boolean(),
    withdrawPayees: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    withdrawAgents: fc.array(fc.boolean(), { minLength: AGENTS, maxLength: AGENTS }),
  }),
);

/** The fixture's two agents plus a third (operator: the stranger), and every payer's approval given once. */
async function threeAgents() {
  const f = await deployTreasury();
  const { registry, router, treasury, token, stranger, newAgentKey, user, user2 } = f;
  const third = await registry.connect(stranger)["register(string)"].staticCall("ipfs://third");
  await registry.connect(stranger)["register(string)"]("ipfs://third");
  await registry.connect(stranger).offerCharter(third, newAgentKey.address);
  await registry.connect(newAgentKey).acceptCharter(third, [toBytes32Text("Contribute")]);
  for (const u of [user, user2]) {
    await token.connect(u).approve(await router.getAddress(), hre.ethers.MaxUint256);
    await token.connect(u).approve(await treasury.getAddress(), hre.ethers.MaxUint256);
  }
  return {
    ...f,
    agentIds: [f.agentId, f.agentId2, third],
    operators: [f.operator, f.operator2, stranger],
    keys: [f.agentKey, f.agentKey2, newAgentKey],
  };
}

describe("Treasury accounting (property)", () => {
  it("accounts for every wei paid in, party by party, for any payments, splits and claims", async function () {
    this.timeout(600_000);
    console.log(`      fast-check seed ${SEED}, ${RUNS} runs`);
    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        const f = await loadFixture(threeAgents);
        await runPlan(f, plan);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });
});

async function runPlan(f: Awaited<ReturnType<typeof threeAgents>>, plan: Plan): Promise<void> {
  const { router, distributor, treasury, token, deployment, poster, user, payee } = f;
  const tokenAddress = await token.getAddress();
  const addr = (t: Tok) => (t === "eth" ? ETH : tokenAddress);
  const key = (...parts: (string | number | bigint)[]) => parts.join("|");

  // The model.
  const agentBps = new Map<number, number>();
  const named = new Map<number, boolean>();
  const splits = new Map<number, { from: bigint; p: bigint; i: bigint }[]>(); // ascending by `from`
  const credits = new Map<string, bigint>(); // account|tok
  const leaves = new Map<string, bigint>(); // epoch|tok|agent
  const paidIn = new Map<Tok, bigint>([
    ["eth", 0n],
    ["erc20", 0n],
  ]);
  const add = (m: Map<string, bigint>, k: string, v: bigint) => m.set(k, (m.get(k) ?? 0n) + v);
  const splitAt = (agent: number, epoch: bigint) => {
    const history = splits.get(agent) ?? [];
    let s = { p: 5_000n, i: 3_000n };
    for (const h of history) if (h.from <= epoch) s = { p: h.p, i: h.i };
    return s;
  };

  // Epochs: configuration changes, then payments, then the epoch closes.
  const epochs: bigint[] = [];
  for (const e of plan.epochs) {
    const current = await router.currentEpoch();
    for (const c of e.shareChanges) {
      const agentId = f.agentIds[c.agent]!;
      const agent = await sign(f.keys[c.agent]!, "SetRevenueShare", deployment, {
        agentId,
        userBps: 10_000 - c.agentBps,
        agentBps: c.agentBps,
        nonce: BigInt(await time.latest()) * 16n + BigInt(c.agent),
      });
      const call = revenueShareCall({ agent });
      await f.operators[c.agent]!.sendTransaction({ to: call.to, data: call.data });
      agentBps.set(c.agent, c.agentBps);
    }
    for (const c of e.payeeChanges) {
      await router.connect(f.operators[c.agent]!).setPayee(f.agentIds[c.agent]!, c.named ? payee.address : ETH);
      named.set(c.agent, c.named);
    }
    for (const c of e.splitChanges) {
      const commonsBps = 10_000 - c.personalBps - c.infrastructureBps;
      await distributor.connect(f.keys[c.agent]!).setSplit(f.agentIds[c.agent]!, { ...c, commonsBps });
      const history = (splits.get(c.agent) ?? []).filter((h) => h.from !== current + 1n);
      history.push({ from: current + 1n, p: BigInt(c.personalBps), i: BigInt(c.infrastructureBps) });
      splits.set(c.agent, history);
    }
    for (const [n, p] of e.payments.entries()) {
      const agentId = f.agentIds[p.agent]!;
      const t = addr(p.token);
      await router
        .connect(user)
        .pay(agentId, t, p.amount, ref(`${current}-${n}`), { value: p.token === "eth" ? p.amount : 0n });
      const share = (p.amount * BigInt(agentBps.get(p.agent) ?? 1_000)) / 10_000n;
      const receiver = named.get(p.agent) ? payee.address : f.operators[p.agent]!.address;
      add(credits, key(receiver, p.token), p.amount - share);
      add(leaves, key(current, p.token, p.agent), share);
      paidIn.set(p.token, paidIn.get(p.token)! + p.amount);
    }
    epochs.push(await closeEpoch(router));
  }

  // Every non-empty epoch and token gets its honest root; then the claims run.
  const trees = new Map<string, EarningsTree>();
  for (const epoch of epochs) {
    for (const t of ["eth", "erc20"] as Tok[]) {
      if ((await router.bucketOf(epoch, addr(t))) === 0n) continue;
      trees.set(key(epoch, t), await postEpoch(router, distributor, poster, epoch, addr(t)));
    }
  }
  await passChallengeWindow();

  const personal = new Map<string, bigint>(); // agent|tok
  const budget = new Map<string, bigint>();
  const commons = new Map<Tok, bigint>([
    ["eth", 0n],
    ["erc20", 0n],
  ]);
  const claimed = new Set<string>();
  const opened = new Set<string>();
  for (const c of plan.claims) {
    const epoch = epochs[c.epoch]!;
    const tree = trees.get(key(epoch, c.token));
    const agentId = f.agentIds[c.agent]!;
    const leaf = tree?.leafOf(agentId);
    if (!tree || !leaf) continue;
    const proof = tree.proof(agentId)!;
    const leafKey = key(epoch, c.token, c.agent);
    const again = claimed.has(leafKey);
    if (c.batch) {
      const paid = await distributor.claimMany.staticCall(epoch, addr(c.token), [
        { agentId, amount: leaf.amount, proof },
      ]);
      expect(paid).to.equal(again ? 0n : 1n);
      await distributor.claimMany(epoch, addr(c.token), [{ agentId, amount: leaf.amount, proof }]);
    } else if (again) {
      await expect(distributor.claim(epoch, addr(c.token), agentId, leaf.amount, proof))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorAlreadyClaimed")
        .withArgs(epoch, addr(c.token), agentId);
    } else {
      await distributor.claim(epoch, addr(c.token), agentId, leaf.amount, proof);
    }
    opened.add(key(epoch, c.token));
    if (again) continue;
    claimed.add(leafKey);
    const s = splitAt(c.agent, epoch);
    const parts = splitOf(leaf.amount, s.p, s.i);
    add(personal, key(c.agent, c.token), parts.personal);
    add(budget, key(c.agent, c.token), parts.infrastructure);
    commons.set(c.token, commons.get(c.token)! + parts.commons);
  }

  // Optionally everything expires and what is unclaimed goes to the commons.
  if (plan.sweep && trees.size > 0) {
    const last = [...trees.keys()].at(-1)!.split("|");
    const { expiresAt } = await distributor.epochInfo(BigInt(last[0]!), addr(last[1] as Tok));
    await time.increaseTo(expiresAt);
    for (const [k] of trees) {
      const [e, t] = k.split("|") as [string, Tok];
      await distributor.sweepExpired(BigInt(e), addr(t));
      opened.add(k);
      let left = 0n;
      for (let a = 0; a < AGENTS; a++) {
        if (!claimed.has(key(e, t, a))) left += leaves.get(key(e, t, a)) ?? 0n;
      }
      commons.set(t, commons.get(t)! + left);
    }
  }

  // Withdrawals: payees and operators pull their credits, agents' earnings go to their wallets.
  const accounts: HardhatEthersSigner[] = [...f.operators, payee];
  const withdrawnCredits = new Map<string, bigint>();
  for (const [i, account] of accounts.entries()) {
    if (!plan.withdrawPayees[i]) continue;
    for (const t of ["eth", "erc20"] as Tok[]) {
      const due = credits.get(key(account.address, t)) ?? 0n;
      if (due === 0n) continue;
      await router.connect(account).withdraw(addr(t), account.address);
      add(withdrawnCredits, key(account.address, t), due);
    }
  }
  const withdrawnEarnings = new Map<string, bigint>();
  for (let a = 0; a < AGENTS; a++) {
    if (!plan.withdrawAgents[a]) continue;
    for (const t of ["eth", "erc20"] as Tok[]) {
      const due = personal.get(key(a, t)) ?? 0n;
      if (due === 0n) continue;
      await treasury.withdrawEarnings(f.agentIds[a]!, addr(t));
      add(withdrawnEarnings, key(a, t), due);
    }
  }

  // Party by party.
  for (const t of ["eth", "erc20"] as Tok[]) {
    let accounted = 0n;
    for (const account of accounts) {
      const due = credits.get(key(account.address, t)) ?? 0n;
      const out = withdrawnCredits.get(key(account.address, t)) ?? 0n;
      expect(await router.creditOf(account.address, addr(t))).to.equal(due - out, `credit ${account.address} ${t}`);
      accounted += due;
    }
    for (let a = 0; a < AGENTS; a++) {
      const id = f.agentIds[a]!;
      const p = personal.get(key(a, t)) ?? 0n;
      const out = withdrawnEarnings.get(key(a, t)) ?? 0n;
      expect(await treasury.earningsOf(id, addr(t))).to.equal(p - out, `earnings of agent ${a} in ${t}`);
      expect(await treasury.budgetOf(id, addr(t))).to.equal(budget.get(key(a, t)) ?? 0n, `budget of ${a} in ${t}`);
      accounted += p + (budget.get(key(a, t)) ?? 0n);
    }
    expect(await treasury.commonsOf(addr(t))).to.equal(commons.get(t)!, `commons in ${t}`);
    accounted += commons.get(t)!;
    for (const epoch of epochs) {
      let unclaimed = 0n;
      for (let a = 0; a < AGENTS; a++) {
        if (!claimed.has(key(epoch, t, a))) unclaimed += leaves.get(key(epoch, t, a)) ?? 0n;
      }
      const isOpen = opened.has(key(epoch, t));
      const swept = plan.sweep && trees.has(key(epoch, t));
      expect(await router.bucketOf(epoch, addr(t))).to.equal(isOpen ? 0n : unclaimed, `bucket ${epoch} ${t}`);
      const info = await distributor.epochInfo(epoch, addr(t));
      expect(info.remaining).to.equal(isOpen && !swept ? unclaimed : 0n, `remaining ${epoch} ${t}`);
      if (!swept) accounted += unclaimed;
    }
    expect(accounted).to.equal(paidIn.get(t)!, `every wei paid in ${t} is accounted for`);
  }
  // And the contracts hold exactly what is still inside.
  const held = async (who: string) => [await hre.ethers.provider.getBalance(who), await token.balanceOf(who)] as const;
  const [routerEth, routerTok] = await held(await router.getAddress());
  const [treasuryEth, treasuryTok] = await held(await treasury.getAddress());
  const outside = (t: Tok) =>
    [...withdrawnCredits].filter(([k]) => k.endsWith(`|${t}`)).reduce((s, [, v]) => s + v, 0n) +
    [...withdrawnEarnings].filter(([k]) => k.endsWith(`|${t}`)).reduce((s, [, v]) => s + v, 0n);
  expect(routerEth + treasuryEth).to.equal(paidIn.get("eth")! - outside("eth"), "ETH held");
  expect(routerTok + treasuryTok).to.equal(paidIn.get("erc20")! - outside("erc20"), "ERC-20 held");
}
