import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import fc from "fast-check";
import type { Address } from "viem";
import { EarningsTree, LEAF_ENCODING, leafHash, processProof } from "../../../keepers/earnings/tree";

const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
const SEED = process.env.TREE_PROPERTY_SEED ? Number(process.env.TREE_PROPERTY_SEED) : Date.now() % 2 ** 31;

describe("earnings trees (OpenZeppelin StandardMerkleTree format)", () => {
  it("match the library's root, dump and proofs for any leaves", () => {
    console.log(`      fast-check seed ${SEED}`);
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            agentId: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
            amount: fc.bigInt({ min: 1n, max: 2n ** 256n - 1n }),
          }),
          { minLength: 1, maxLength: 40, selector: (l) => l.agentId },
        ),
        (raw) => {
          const ours = EarningsTree.build(raw.map((l) => ({ ...l, token: TOKEN })));
          const oz = StandardMerkleTree.of(
            ours.leaves.map((l) => [l.agentId.toString(), TOKEN, l.amount.toString()]),
            [...LEAF_ENCODING],
          );
          expect(ours.root).to.equal(oz.root);
          expect(JSON.stringify(ours.dump())).to.equal(JSON.stringify(oz.dump()));
          for (let i = 0; i < ours.length; i++) {
            expect(ours.proofAt(i)).to.deep.equal(oz.getProof(i));
            expect(processProof(ours.leaves[i]!, ours.proofAt(i))).to.equal(ours.root);
          }
        },
      ),
      { numRuns: 40, seed: SEED },
    );
  });

  it("give the same root and the same bytes whatever the input order", () => {
    const leaves = [5n, 1n, 9n, 3n].map((agentId) => ({ agentId, token: TOKEN, amount: agentId * 10n }));
    const a = EarningsTree.build(leaves);
    const b = EarningsTree.build([...leaves].reverse());
    expect(a.root).to.equal(b.root);
    expect(JSON.stringify(a.dump())).to.equal(JSON.stringify(b.dump()));
    expect(a.leaves.map((l) => l.agentId)).to.deep.equal([1n, 3n, 5n, 9n]);
  });

  it("load from a dump, refusing one whose root is not its values'", () => {
    const tree = EarningsTree.build([
      { agentId: 1n, token: TOKEN, amount: 7n },
      { agentId: 2n, token: TOKEN, amount: 8n },
    ]);
    expect(EarningsTree.fromDump(tree.dump()).root).to.equal(tree.root);
    const forged = tree.dump();
    forged.values[0]!.value[2] = "70";
    expect(() => EarningsTree.fromDump(forged)).to.throw(/is not the root of its values/);
    expect(() => EarningsTree.fromDump({ ...tree.dump(), leafEncoding: ["uint256"] })).to.throw(/leaf encoding/);
  });

  it("refuse no leaves, a repeated agent, a zero amount and two tokens", () => {
    expect(() => EarningsTree.build([])).to.throw(/at least one leaf/);
    expect(() =>
      EarningsTree.build([
        { agentId: 1n, token: TOKEN, amount: 1n },
        { agentId: 1n, token: TOKEN, amount: 2n },
      ]),
    ).to.throw(/appears twice/);
    expect(() => EarningsTree.build([{ agentId: 1n, token: TOKEN, amount: 0n }])).to.throw(/must be positive/);
    expect(() =>
      EarningsTree.build([
        { agentId: 1n, token: TOKEN, amount: 1n },
        { agentId: 2n, token: "0x0000000000000000000000000000000000000001", amount: 1n },
      ]),
    ).to.throw(/one token/);
  });

  it("hash a leaf as the contract does: keccak256(bytes.concat(keccak256(abi.encode(...))))", () => {
    // EarningsDistributor.leafHash(7, TOKEN, 1000), computed by the compiled contract in the distributor tests.
    const leaf = { agentId: 7n, token: TOKEN, amount: 1000n };
    const oz = StandardMerkleTree.of([["7", TOKEN, "1000"]], [...LEAF_ENCODING]);
    expect(`0x${Buffer.from(leafHash(leaf)).toString("hex")}`).to.equal(oz.root);
  });
});
