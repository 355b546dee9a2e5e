import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { id as keccakText } from "ethers";
import { type Hex, hashStruct } from "viem";
import { type AgentSigner, fromEthersSigner, registryTypes } from "../../sdk";
import { AGENT_URI, deployWithAgent } from "../fixtures/identity";
import { backupRecordHash, deadlineAfter, minedAt, nextBackupHead, relay, signed, texts, ZERO_HEAD28 } from "./helpers";

/*
 * The backup trail (hash-chained, sequence as replay guard) and anchored batches of agent-signed records.
 */

const RELAYER_ROLE = keccakText("RELAYER_ROLE");
const LEAF_TYPES = ["uint256", "bytes32", "bytes"];
const cidOf = (n: number) => `0x01551220${n.toString(16).padStart(64, "0")}` as Hex;
const hashOf = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;

describe("AgentRegistry: backups", () => {
  describe("the trail", () => {
    it("chains every record: each head is bytes28(keccak256(prevHead, recordHash)), direct and relayed alike", async () => {
      const { registry, agentKey, agentSigner, agentId, deployment, relayer } = await loadFixture(deployWithAgent);
      const records: { sequence: number; ciphertextHash: Hex; cid: Hex; deadline: bigint; relayed: boolean }[] = [];
      for (const [i, sequence] of [1, 2, 5, 9, 10].entries()) {
        const relayed = i % 2 === 1;
        const r = { sequence, ciphertextHash: hashOf(100 + i), cid: cidOf(i), deadline: 0n, relayed };
        if (relayed) {
          r.deadline = await deadlineAfter();
          const { relayed: _relayed, ...fields } = r;
          const action = await signed(agentSigner, "BackupRecord", deployment, { agentId, ...fields });
          await relay(relayer, action);
        } else {
          await registry.connect(agentKey).recordBackup(agentId, sequence, r.ciphertextHash, r.cid);
        }
        records.push(r);
      }
      const events = await registry.queryFilter(registry.filters.BackupRecorded(agentId));
      let head: string = ZERO_HEAD28;
      for (const [i, r] of records.entries()) {
        const { relayed: _relayed, ...fields } = r;
        const recordHash = backupRecordHash({ agentId, ...fields });
        const next = nextBackupHead(head, recordHash);
        const e = events[i]!;
        expect([e.args.sequence, e.args.ciphertextHash, e.args.cid, e.args.prevHead, e.args.head]).to.deep.equal([
          BigInt(r.sequence),
          r.ciphertextHash,
          r.cid,
          head,
          next,
        ]);
        head = next;
      }
      const [sequence, stored] = await registry.latestBackup(agentId);
      expect([sequence, stored]).to.deep.equal([10n, head]);
      const identity = await registry.getIdentity(agentId);
      expect([identity.latestBackupSequence, identity.backupHead]).to.deep.equal([10n, head]);
    });

    it("a sequence must exceed the latest: AgentRegistryStaleBackup(id, sequence, latest)", async () => {
      const { registry, agentKey, agentId } = await loadFixture(deployWithAgent);
      await expect(registry.connect(agentKey).recordBackup(agentId, 0, hashOf(1), cidOf(1)))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStaleBackup")
        .withArgs(agentId, 0, 0);
      await registry.connect(agentKey).recordBackup(agentId, 5, hashOf(1), cidOf(1));
      for (const stale of [5, 4, 1]) {
        await expect(registry.connect(agentKey).recordBackup(agentId, stale, hashOf(2), cidOf(2)))
          .to.be.revertedWithCustomError(registry, "AgentRegistryStaleBackup")
          .withArgs(agentId, stale, 5);
      }
      await registry.connect(agentKey).recordBackup(agentId, 2 ** 32 - 1, hashOf(3), cidOf(3));
      await expect(registry.connect(agentKey).recordBackup(agentId, 2 ** 32 - 1, hashOf(4), cidOf(4)))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStaleBackup")
        .withArgs(agentId, 2 ** 32 - 1, 2 ** 32 - 1);
    });

    it("a replayed relayed record, or one overtaken by a direct record, is stale", async () => {
      const { registry, agentKey, agentSigner, agentId, deployment, relayer, stranger } =
        await loadFixture(deployWithAgent);
      const record = {
        agentId,
        sequence: 1,
        ciphertextHash: hashOf(1),
        cid: cidOf(1),
        deadline: await deadlineAfter(),
      };
      const action = await signed(agentSigner, "BackupRecord", deployment, record);
      await relay(relayer, action);
      await expect(relay(stranger, action))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStaleBackup")
        .withArgs(agentId, 1, 1);
      const withheld = await signed(agentSigner, "BackupRecord", deployment, { ...record, sequence: 2 });
      await registry.connect(agentKey).recordBackup(agentId, 3, hashOf(3), cidOf(3));
      await expect(relay(stranger, withheld))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStaleBackup")
        .withArgs(agentId, 2, 3);
    });

    it("trails are per agent", async () => {
      const { registry, agentKey, agentKey2, operator2, agentId } = await loadFixture(deployWithAgent);
      await registry.connect(operator2)["register(string)"](AGENT_URI);
      await registry.connect(operator2).offerCharter(1, agentKey2.address);
      await registry.connect(agentKey2).acceptCharter(1, texts("b"));
      await registry.connect(agentKey).recordBackup(agentId, 7, hashOf(1), cidOf(1));
      await expect(registry.connect(agentKey2).recordBackup(1, 1, hashOf(1), cidOf(1)))
        .to.emit(registry, "BackupRecorded")
        .withArgs(1, 1, hashOf(1), cidOf(1), ZERO_HEAD28, (h: string) => h !== ZERO_HEAD28);
      await expect(registry.connect(agentKey2).recordBackup(agentId, 8, hashOf(1), cidOf(1)))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotAgentSigner")
        .withArgs(agentId, agentKey2.address);
    });

    it("backupRecordHash is the EIP-712 struct hash the SDK's types give (viem hashStruct)", async () => {
      const { registry, agentId } = await loadFixture(deployWithAgent);
      const m = { agentId, sequence: 42, ciphertextHash: hashOf(9), cid: cidOf(9), deadline: 1_900_000_000n };
      const viaViem = hashStruct({ data: m, primaryType: "BackupRecord", types: registryTypes });
      expect(await registry.backupRecordHash(agentId, 42, m.ciphertextHash, m.cid, m.deadline)).to.equal(viaViem);
      expect(backupRecordHash(m)).to.equal(viaViem);
    });
  });

  describe("anchorBackups", () => {
    it("a relayer anchors: BackupsAnchored(index, root, count, uri, relayer), stored with its time", async () => {
      const { registry, relayer } = await loadFixture(deployWithAgent);
      const root = hashOf(0xabc);
      const tx = registry.connect(relayer).anchorBackups(root, 3, "ipfs://leaves-0");
      await expect(tx).to.emit(registry, "BackupsAnchored").withArgs(0, root, 3, "ipfs://leaves-0", relayer.address);
      const at = await minedAt(tx);
      const anchor = await registry.getAnchor(0);
      expect([anchor.root, anchor.count, anchor.anchoredAt, anchor.relayer]).to.deep.equal([
        root,
        3n,
        BigInt(at),
        relayer.address,
      ]);
      expect(await registry.anchorCount()).to.equal(1n);
      await expect(registry.connect(relayer).anchorBackups(root, 1, ""))
        .to.emit(registry, "BackupsAnchored")
        .withArgs(1, root, 1, "", relayer.address);
    });

    it("anyone without RELAYER_ROLE: AccessControlUnauthorizedAccount(caller, RELAYER_ROLE)", async () => {
      const { registry, operator, council, stranger, deployer, agentKey } = await loadFixture(deployWithAgent);
      for (const who of [operator, council, stranger, deployer, agentKey]) {
        await expect(registry.connect(who).anchorBackups(hashOf(1), 1, "x"))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, RELAYER_ROLE);
      }
    });

    it("the role is the admin's to grant and revoke", async () => {
      const { registry, deployer, stranger, relayer } = await loadFixture(deployWithAgent);
      await registry.connect(deployer).grantRole(RELAYER_ROLE, stranger.address);
      await expect(registry.connect(stranger).anchorBackups(hashOf(1), 1, "x")).to.emit(registry, "BackupsAnchored");
      await registry.connect(deployer).revokeRole(RELAYER_ROLE, relayer.address);
      await expect(registry.connect(relayer).anchorBackups(hashOf(1), 1, "x"))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(relayer.address, RELAYER_ROLE);
    });

    it("an empty batch: AgentRegistryEmptyAnchor; unknown anchors: AgentRegistryUnknownAnchor(index)", async () => {
      const { registry, relayer, agentId } = await loadFixture(deployWithAgent);
      await expect(registry.connect(relayer).anchorBackups(hashOf(1), 0, "x")).to.be.revertedWithCustomError(
        registry,
        "AgentRegistryEmptyAnchor",
      );
      await expect(registry.getAnchor(0))
        .to.be.revertedWithCustomError(registry, "AgentRegistryUnknownAnchor")
        .withArgs(0);
      await expect(registry.verifyAnchoredBackup(0, agentId, hashOf(1), "0x", []))
        .to.be.revertedWithCustomError(registry, "AgentRegistryUnknownAnchor")
        .withArgs(0);
    });
  });

  describe("verifyAnchoredBackup", () => {
    type Leaf = [string, string, string];

    async function signedRecord(
      registry: Awaited<ReturnType<typeof deployWithAgent>>["registry"],
      deployment: Awaited<ReturnType<typeof deployWithAgent>>["deployment"],
      signer: AgentSigner,
      agentId: bigint,
      sequence: number,
    ): Promise<Leaf> {
      const m = { agentId, sequence, ciphertextHash: hashOf(1000 + sequence), cid: cidOf(sequence), deadline: 0n };
      const recordHash = await registry.backupRecordHash(agentId, sequence, m.ciphertextHash, m.cid, 0);
      const { signature } = await signed(signer, "BackupRecord", deployment, m);
      return [agentId.toString(), recordHash, signature];
    }

    /** Two agents; a batch of their signed records (and forgeries) anchored by the relayer. */
    async function anchored() {
      const f = await deployWithAgent();
      const { registry, operator2, agentKey2, deployment, agentSigner, agentId, relayer, stranger } = f;
      await registry.connect(operator2)["register(string)"](AGENT_URI);
      await registry.connect(operator2).offerCharter(1, agentKey2.address);
      await registry.connect(agentKey2).acceptCharter(1, texts("b"));
      const key2 = await fromEthersSigner(agentKey2);
      const real0 = await signedRecord(registry, deployment, agentSigner, agentId, 1);
      const real1 = await signedRecord(registry, deployment, key2, 1n, 1);
      const forged = await signedRecord(registry, deployment, await fromEthersSigner(stranger), agentId, 2);
      // Agent 1's genuine record and signature, filed under agent 0.
      const misfiled: Leaf = [agentId.toString(), real1[1], real1[2]];
      const leaves = [real0, real1, forged, misfiled];
      const tree = StandardMerkleTree.of(leaves, LEAF_TYPES);
      await registry.connect(relayer).anchorBackups(tree.root, leaves.length, "ipfs://batch");
      return { ...f, tree, real0, real1, forged, misfiled };
    }

    const verify = (f: Awaited<ReturnType<typeof anchored>>, index: number, leaf: Leaf, proof: string[]) =>
      f.registry.verifyAnchoredBackup(index, BigInt(leaf[0]), leaf[1], leaf[2], proof);

    it("true for a real leaf of either agent (StandardMerkleTree over agentId, recordHash, signature)", async () => {
      const f = await loadFixture(anchored);
      expect(await verify(f, 0, f.real0, f.tree.getProof(f.real0))).to.equal(true);
      expect(await verify(f, 0, f.real1, f.tree.getProof(f.real1))).to.equal(true);
    });

    it("false for a leaf signed by another key, even though it is in the tree", async () => {
      const f = await loadFixture(anchored);
      expect(await verify(f, 0, f.forged, f.tree.getProof(f.forged))).to.equal(false);
    });

    it("false for a leaf from another agent (agent 1's signed record filed under agent 0)", async () => {
      const f = await loadFixture(anchored);
      expect(await verify(f, 0, f.misfiled, f.tree.getProof(f.misfiled))).to.equal(false);
      // nor does agent 0's real leaf count for agent 1
      expect(await verify(f, 0, ["1", f.real0[1], f.real0[2]], f.tree.getProof(f.real0))).to.equal(false);
    });

    it("false for a tampered leaf or a proof of another leaf", async () => {
      const f = await loadFixture(anchored);
      const proof = f.tree.getProof(f.real0);
      const otherHash = hashOf(0xdead);
      expect(await verify(f, 0, [f.real0[0], otherHash, f.real0[2]], proof)).to.equal(false);
      const flipped = `${f.real0[2].slice(0, -2)}${f.real0[2].endsWith("1b") ? "1c" : "1b"}`;
      expect(await verify(f, 0, [f.real0[0], f.real0[1], flipped], proof)).to.equal(false);
      expect(await verify(f, 0, f.real0, f.tree.getProof(f.real1))).to.equal(false);
      expect(await verify(f, 0, f.real0, [])).to.equal(false);
    });

    it("after a rotation: earlier anchors still verify against the signer then; later ones need the new key", async () => {
      const f = await loadFixture(anchored);
      const { registry, agentKey, newAgentKey, agentId, deployment, relayer } = f;
      await time.increase(60);
      const r = { agentId, newSigner: newAgentKey.address, nonce: 1n, deadline: await deadlineAfter() };
      const s = await signed(await fromEthersSigner(newAgentKey), "RotateSigner", deployment, r);
      await registry.connect(agentKey).rotateSigner(agentId, newAgentKey.address, 1, r.deadline, s.signature);

      expect(await verify(f, 0, f.real0, f.tree.getProof(f.real0))).to.equal(true);

      await time.increase(60);
      const byOldKey = await signedRecord(registry, deployment, f.agentSigner, agentId, 3);
      const byNewKey = await signedRecord(registry, deployment, await fromEthersSigner(newAgentKey), agentId, 4);
      const later = StandardMerkleTree.of([byOldKey, byNewKey], LEAF_TYPES);
      await registry.connect(relayer).anchorBackups(later.root, 2, "ipfs://batch-2");
      expect(await verify(f, 1, byOldKey, later.getProof(byOldKey))).to.equal(false);
      expect(await verify(f, 1, byNewKey, later.getProof(byNewKey))).to.equal(true);
    });

    it("false for an agent without a charter (no signer at anchoring time)", async () => {
      const f = await loadFixture(anchored);
      const { registry, operator2, agentKey2, deployment, relayer } = f;
      await registry.connect(operator2)["register()"]();
      const leaf = await signedRecord(registry, deployment, await fromEthersSigner(agentKey2), 2n, 1);
      const tree = StandardMerkleTree.of([leaf, f.real0], LEAF_TYPES);
      await registry.connect(relayer).anchorBackups(tree.root, 2, "ipfs://batch-3");
      expect(await verify(f, 1, leaf, tree.getProof(leaf))).to.equal(false);
      expect(await verify(f, 1, f.real0, tree.getProof(f.real0))).to.equal(true);
    });
  });
});
