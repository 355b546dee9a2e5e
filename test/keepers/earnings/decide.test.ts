import { expect } from "chai";
import { type Address, decodeFunctionData, type Hex } from "viem";
import { distributorAbi } from "../../../keepers/earnings/abi";
import {
  type ChainEpoch,
  claimGasBound,
  claimIntent,
  decideEpoch,
  type EpochRecord,
  lastClosableEpoch,
  planClaimBatches,
  postIntent,
  reconcile,
  root28,
} from "../../../keepers/earnings/decide";
import { EarningsTree } from "../../../keepers/earnings/tree";

const DISTRIBUTOR = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0" as Address;
const ETH = "0x0000000000000000000000000000000000000000" as Address;
const ROOT = `0x${"ab".repeat(32)}` as Hex;
const ZERO28 = `0x${"00".repeat(28)}` as Hex;

const closed: EpochRecord = { epoch: 4n, token: ETH, status: "closed", root: ROOT, total: 100n, uri: "ipfs://x" };
const chain = (over: Partial<ChainEpoch> = {}): ChainEpoch => ({
  root28: ZERO28,
  claimableAt: 1_000n,
  expiresAt: 5_000n,
  opened: false,
  swept: false,
  remaining: 0n,
  ...over,
});

describe("earnings keeper decisions (pure)", () => {
  describe("reconcile", () => {
    it("accepts a tree whose total is the bucket and names the gap otherwise", () => {
      expect(reconcile({ total: 10n, length: 2 }, 10n)).to.equal(undefined);
      expect(reconcile({ total: 9n, length: 2 }, 10n)).to.equal(
        "the 2 leaves sum to 9 but the router's bucket holds 10 (the bucket holds more by 1)",
      );
      expect(reconcile({ total: 12n, length: 3 }, 10n)).to.match(/leaves exceed it by 2/);
    });
  });

  describe("decideEpoch", () => {
    it("posts a closed root the chain does not hold, keyed by the root", () => {
      const action = decideEpoch(closed, chain(), 0n, DISTRIBUTOR, true);
      expect(action.kind).to.equal("post");
      if (action.kind !== "post") return;
      expect(action.intent.key).to.equal(`earnings:post-root:${DISTRIBUTOR.toLowerCase()}:4:${ETH}:${ROOT}`);
      const call = decodeFunctionData({ abi: distributorAbi, data: action.intent.data });
      expect(call.functionName).to.equal("postRoot");
      expect(call.args).to.deep.equal([4n, ETH, ROOT, 100n, "ipfs://x"]);
      // Deciding twice gives the same intent: the Submitter sends it once.
      expect(decideEpoch(closed, chain(), 0n, DISTRIBUTOR, true)).to.deep.equal(action);
    });

    it("records a closed root already on chain as posted, and another root as a conflict", () => {
      expect(decideEpoch(closed, chain({ root28: root28(ROOT) }), 0n, DISTRIBUTOR, true)).to.deep.equal({
        kind: "status",
        status: "posted",
        claimableAt: 1_000n,
        expiresAt: 5_000n,
      });
      const other = decideEpoch(closed, chain({ root28: `0x${"cd".repeat(28)}` }), 0n, DISTRIBUTOR, true);
      expect(other).to.include({ kind: "status", status: "conflict" });
    });

    it("waits during the window, claims after it, sweeps after the expiry", () => {
      const posted: EpochRecord = { ...closed, status: "posted" };
      const held = chain({ root28: root28(ROOT), opened: true, remaining: 40n });
      expect(decideEpoch(posted, held, 999n, DISTRIBUTOR, true)).to.deep.equal({ kind: "wait" });
      expect(decideEpoch(posted, held, 1_000n, DISTRIBUTOR, true)).to.deep.equal({ kind: "claim" });
      expect(decideEpoch(posted, held, 1_000n, DISTRIBUTOR, false)).to.deep.equal({ kind: "wait" });
      const sweep = decideEpoch(posted, held, 5_000n, DISTRIBUTOR, true);
      expect(sweep.kind).to.equal("sweep");
      expect(decideEpoch(posted, { ...held, remaining: 0n }, 5_000n, DISTRIBUTOR, true)).to.deep.equal({
        kind: "status",
        status: "swept",
      });
      const claimed: EpochRecord = { ...closed, status: "claimed" };
      expect(decideEpoch(claimed, { ...held, remaining: 0n }, 5_000n, DISTRIBUTOR, true)).to.deep.equal({
        kind: "status",
        status: "swept",
      });
    });

    it("notices that the guardian cancelled a posted root", () => {
      const posted: EpochRecord = { ...closed, status: "posted" };
      expect(decideEpoch(posted, chain(), 2_000n, DISTRIBUTOR, true)).to.include({
        kind: "status",
        status: "cancelled",
      });
    });
  });

  describe("claim batches", () => {
    it("fit the batch gas, cover every leaf once, in order", () => {
      const lengths = Array.from({ length: 1_000 }, (_, i) => (i % 3 === 0 ? 10 : 9));
      const batchGas = 3_000_000;
      const batches = planClaimBatches(lengths, batchGas);
      let next = 0;
      for (const [i, b] of batches.entries()) {
        expect(b.index).to.equal(i);
        expect(b.first).to.equal(next);
        next += b.count;
        const gas = 200_000 + lengths.slice(b.first, b.first + b.count).reduce((s, l) => s + claimGasBound(l), 0);
        expect(gas).to.be.at.most(batchGas);
      }
      expect(next).to.equal(1_000);
      expect(planClaimBatches([17], 1)).to.deep.equal([{ index: 0, first: 0, count: 1 }]);
    });

    it("bound a leaf's gas above what a 17-sibling claim measured (45,455)", () => {
      expect(claimGasBound(17)).to.be.greaterThan(45_455);
    });

    it("encode claimMany with each leaf's proof, keyed by epoch, token, root and batch", () => {
      const tree = EarningsTree.build(
        [1n, 2n, 3n, 4n, 5n].map((agentId) => ({ agentId, token: ETH, amount: agentId * 100n })),
      );
      const intent = claimIntent(DISTRIBUTOR, 4n, tree, { index: 1, first: 2, count: 2 });
      expect(intent.key).to.equal(`earnings:claim:${DISTRIBUTOR.toLowerCase()}:4:${ETH}:${tree.root}:1`);
      const call = decodeFunctionData({ abi: distributorAbi, data: intent.data });
      expect(call.functionName).to.equal("claimMany");
      const [, , claims] = call.args as [bigint, Address, { agentId: bigint; amount: bigint; proof: Hex[] }[]];
      expect(claims.map((c) => c.agentId)).to.deep.equal([3n, 4n]);
      expect(claims[0]!.proof).to.deep.equal(tree.proof(3n));
    });
  });

  describe("lastClosableEpoch", () => {
    it("is the last epoch that ended at or before the block read", () => {
      expect(lastClosableEpoch(1_000n + 3_599n, 1_000n, 3_600n)).to.equal(undefined);
      expect(lastClosableEpoch(1_000n + 3_600n, 1_000n, 3_600n)).to.equal(0n);
      expect(lastClosableEpoch(1_000n + 3n * 3_600n + 5n, 1_000n, 3_600n)).to.equal(2n);
    });
  });

  it("postIntent keys name the distributor, epoch, token and root", () => {
    const intent = postIntent(DISTRIBUTOR, { epoch: 1n, token: ETH, root: ROOT, total: 5n, uri: "u" });
    expect(intent.to).to.equal(DISTRIBUTOR);
    expect(intent.key).to.contain(`:1:${ETH}:${ROOT}`);
  });
});
