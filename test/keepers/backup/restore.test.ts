import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { type Address, createPublicClient, custom, encodeFunctionData, type Hex, toHex } from "viem";
import { packEntries } from "../../../keepers/backup/archive";
import {
  anchoredRecords,
  directRecords,
  type LocatedRecord,
  type RegistryRef,
  registryBackupAbi,
  verifyLocated,
} from "../../../keepers/backup/chain";
import { cidToBytes, LocalContentStore } from "../../../keepers/backup/contentStore";
import { BackupError } from "../../../keepers/backup/errors";
import { createAgentFolder, readFolder } from "../../../keepers/backup/folder";
import { type AgentSecrets, newBackupKey } from "../../../keepers/backup/keystore";
import { createBackup, restoreAgent } from "../../../keepers/backup/pipeline";
import { buildManifest, type SignedBackupRecord, signRecord } from "../../../keepers/backup/record";
import { type AgentSigner, fromEthersSigner } from "../../../sdk";
import { AGENT_URI, deployWithAgent } from "../../fixtures/identity";
import { makeTempDir } from "../../helpers/tmp";
import { texts } from "../../identity/helpers";

/*
 * Backup and resurrection against the real AgentRegistry (Hardhat's in-process chain): direct and batched anchors,
 * consent, and every kind of tampering, each refused with nothing written to the target.
 */

async function chainSetup() {
  const f = await deployWithAgent();
  const { registry, operator2, agentKey, agentKey2, agentId } = f;
  await registry.connect(operator2)["register(string)"](AGENT_URI);
  const agentId2 = agentId + 1n;
  await registry.connect(operator2).offerCharter(agentId2, agentKey2.address);
  await registry.connect(agentKey2).acceptCharter(agentId2, texts("b"));
  await registry.connect(agentKey).grantResurrectionConsent(agentId);
  await registry.connect(agentKey2).grantResurrectionConsent(agentId2);
  return { ...f, agentId2 };
}

/** The chain from the fixture, and a fresh disk for each test: memory folders, content store, keys. */
async function setup() {
  const f = await loadFixture(chainSetup);
  const { registry, agentKey2, agentId, agentId2 } = f;
  const client = createPublicClient({ transport: custom(hre.network.provider) });
  const ref: RegistryRef = { client: client as never, registry: f.deployment.registry };
  const root = makeTempDir("covenant-bk-chain-");
  const store = new LocalContentStore(path.join(root, "blobs"));
  const binding = { chainId: f.deployment.chainId, registry: f.deployment.registry as Address };
  const secrets = new Map<bigint, AgentSecrets>([
    [agentId, { agentId, backupKeys: [newBackupKey(1)] }],
    [agentId2, { agentId: agentId2, backupKeys: [newBackupKey(1)] }],
  ]);
  const signers = new Map<bigint, AgentSigner>([
    [agentId, f.agentSigner],
    [agentId2, await fromEthersSigner(agentKey2)],
  ]);
  const memory = path.join(root, "memory");
  for (const id of [agentId, agentId2]) {
    const dir = await createAgentFolder(memory, id);
    writeFileSync(path.join(dir, "facts.json"), JSON.stringify([{ fact: `agent ${id} likes tea` }]));
    writeFileSync(path.join(dir, "memory_index", "vectors.bin"), Buffer.alloc(4096, Number(id) + 1));
  }
  /** Seals, stores and signs a backup of `id`'s folder as it is now. */
  const backup = async (id: bigint, sequence: number) =>
    (
      await createBackup({
        folder: path.join(memory, id.toString()),
        binding,
        store,
        agentId: id,
        sequence,
        secrets: secrets.get(id)!,
        signer: signers.get(id)!,
        deadline: BigInt((await time.latest()) + 3_600),
      })
    ).record;
  /** Relays a record with recordBackupBySig. */
  const recordDirect = async (r: SignedBackupRecord) =>
    (
      await f.relayer.sendTransaction({
        to: f.deployment.registry,
        data: encodeFunctionData({
          abi: registryBackupAbi,
          functionName: "recordBackupBySig",
          args: [r.agentId, r.sequence, r.ciphertextHash, toHex(cidToBytes(r.cid)), r.deadline, r.signature],
        }),
      })
    ).wait();
  const anchor = async (records: SignedBackupRecord[]) => {
    const { bytes, tree } = buildManifest(binding.chainId, binding.registry, records);
    const cid = await store.put(bytes);
    await (await registry.connect(f.relayer).anchorBackups(tree.root, records.length, `ipfs://${cid}`)).wait();
  };
  const locate = async (id: bigint): Promise<LocatedRecord[]> => [
    ...(await directRecords(ref, id)),
    ...(await anchoredRecords(ref, id, store)),
  ];
  const snapshot = async (id: bigint) => packEntries(await readFolder(path.join(memory, id.toString())));
  return { ...f, ref, root, store, binding, secrets, memory, backup, recordDirect, anchor, locate, snapshot };
}

type Setup = Awaited<ReturnType<typeof setup>>;

async function restore(s: Setup, id: bigint, target: string, extra: Partial<Parameters<typeof restoreAgent>[0]> = {}) {
  return restoreAgent({
    ref: s.ref,
    binding: s.binding,
    store: s.store,
    agentId: id,
    secrets: s.secrets.get(id)!,
    target,
    located: await s.locate(id),
    ...extra,
  });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BackupError) return err.code;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("backup keeper: backup and resurrection on the registry", () => {
  it("direct: the agent-signed record is relayed, the host dies, the memory comes back byte-identical", async () => {
    const s = await setup();
    const before = await s.snapshot(s.agentId);
    const r = await s.backup(s.agentId, 1);
    await s.recordDirect(r);
    rmSync(path.join(s.memory, s.agentId.toString()), { recursive: true });
    const target = path.join(s.root, "new-host", "agent");
    const out = await restore(s, s.agentId, target, {
      recordRestoration: async (rec) => {
        const tx = await s.registry.connect(s.agentKey).recordRestoration(s.agentId, rec.sequence, rec.ciphertextHash);
        await expect(tx)
          .to.emit(s.registry, "Restored")
          .withArgs(s.agentId, rec.sequence, rec.ciphertextHash, s.agentKey.address);
        return tx.hash as Hex;
      },
    });
    expect([out.record.sequence, out.source.kind, out.files]).to.deep.equal([1, "direct", 6]);
    expect(packEntries(await readFolder(target))).to.deep.equal(before);
  });

  it("batch: two agents' signed records under one root; each restores from its own leaf", async () => {
    const s = await setup();
    const r1 = await s.backup(s.agentId, 1);
    const r2 = await s.backup(s.agentId2, 1);
    await s.anchor([r1, r2]);
    for (const id of [s.agentId, s.agentId2]) {
      const target = path.join(s.root, `restored-${id}`);
      const out = await restore(s, id, target);
      expect([out.source.kind, out.record.sequence]).to.deep.equal(["anchor", 1]);
      expect(packEntries(await readFolder(target))).to.deep.equal(await s.snapshot(id));
    }
  });

  it("the latest record wins; a tampered blob is refused, an earlier one only when asked for", async () => {
    const s = await setup();
    const first = await s.snapshot(s.agentId);
    await s.recordDirect(await s.backup(s.agentId, 1));
    writeFileSync(path.join(s.memory, s.agentId.toString(), "goals.json"), '["learn"]');
    const r2 = await s.backup(s.agentId, 2);
    await s.anchor([r2]);
    const blob = path.join(s.store.dir, r2.cid);
    const good = readFileSync(blob);
    const target = path.join(s.root, "t");
    const cases: [string, Buffer][] = [
      ["corrupted", Buffer.from(good.map((b, i) => (i === 40 ? b ^ 1 : b)))],
      ["truncated", good.subarray(0, good.length - 10)],
      ["swapped", readFileSync(path.join(s.store.dir, (await s.locate(s.agentId))[0]!.record.cid))],
    ];
    for (const [what, bytes] of cases) {
      writeFileSync(blob, bytes);
      expect(await refusal(restore(s, s.agentId, target)), what).to.equal("BLOB_HASH_MISMATCH");
      expect(existsSync(target), what).to.equal(false);
      expect(
        readdirSync(s.root).filter((n) => n.startsWith(".covenant-restore")),
        what,
      ).to.deep.equal([]);
    }
    const out = await restore(s, s.agentId, target, { sequence: 1 });
    expect(out.record.sequence).to.equal(1);
    expect(packEntries(await readFolder(target))).to.deep.equal(first);
    writeFileSync(blob, good);
    const latest = path.join(s.root, "latest");
    expect((await restore(s, s.agentId, latest)).record.sequence).to.equal(2);
  });

  it("a wrong backup key, or another agent's blob under this agent's record: DECRYPT_FAILED, nothing written", async () => {
    const s = await setup();
    const r = await s.backup(s.agentId, 1);
    await s.recordDirect(r);
    const target = path.join(s.root, "t");
    const wrong: AgentSecrets = { agentId: s.agentId, backupKeys: [{ ...newBackupKey(1) }] };
    expect(await refusal(restore(s, s.agentId, target, { secrets: wrong }))).to.equal("DECRYPT_FAILED");
    // Agent 2's genuine blob, recorded (and signed) by agent 1 as its own sequence 2: the AAD binds the blob to agent 2.
    const other = await s.backup(s.agentId2, 1);
    const misfiled = await signRecord(s.agentSigner, s.binding, {
      ...other,
      agentId: s.agentId,
      sequence: 2,
      deadline: BigInt((await time.latest()) + 3_600),
    });
    await s.recordDirect(misfiled);
    expect(await refusal(restore(s, s.agentId, target))).to.equal("DECRYPT_FAILED");
    expect(existsSync(target)).to.equal(false);
  });

  it("a record of another agent is refused (RECORD_OTHER_AGENT)", async () => {
    const s = await setup();
    const r = await s.backup(s.agentId2, 1);
    await s.recordDirect(r);
    const [located] = await directRecords(s.ref, s.agentId2);
    // Agent 2's record handed to a restore of agent 1 (a keeper database or manifest that files it wrongly).
    const posing = { ...located!, record: { ...located!.record } };
    expect(await refusal(verifyLocated(s.ref, s.agentId, posing))).to.equal("RECORD_OTHER_AGENT");
  });

  it("a batched leaf without a valid agent signature is refused (RECORD_INVALID), nothing written", async () => {
    const s = await setup();
    const real = await s.backup(s.agentId, 1);
    // The relayer plants a record for agent 1 signed by a key that is not agent 1's signer.
    const forged = await signRecord(await fromEthersSigner(s.stranger), s.binding, { ...real, sequence: 9 });
    await s.anchor([real, forged]);
    const target = path.join(s.root, "t");
    expect(await refusal(restore(s, s.agentId, target))).to.equal("RECORD_INVALID");
    expect(existsSync(target)).to.equal(false);
    expect((await restore(s, s.agentId, target, { sequence: 1 })).record.sequence).to.equal(1);
  });

  it("an agent that revoked its consent is not brought back: the keeper refuses, and so does the chain", async () => {
    const s = await setup();
    await s.recordDirect(await s.backup(s.agentId, 1));
    await s.registry.connect(s.agentKey).revokeResurrectionConsent(s.agentId);
    const target = path.join(s.root, "t");
    expect(await refusal(restore(s, s.agentId, target))).to.equal("NO_CONSENT");
    expect(existsSync(target)).to.equal(false);
    await expect(s.registry.connect(s.agentKey).recordRestoration(s.agentId, 1, `0x${"00".repeat(32)}`))
      .to.be.revertedWithCustomError(s.registry, "AgentRegistryNoResurrectionConsent")
      .withArgs(s.agentId);
  });

  it("consent revoked while a restore runs: the chain refuses the restoration and the folder is never put in place", async () => {
    const s = await setup();
    await s.recordDirect(await s.backup(s.agentId, 1));
    const target = path.join(s.root, "t");
    const err = await restore(s, s.agentId, target, {
      recordRestoration: async (rec) => {
        await s.registry.connect(s.agentKey).revokeResurrectionConsent(s.agentId);
        await s.registry.connect(s.agentKey).recordRestoration(s.agentId, rec.sequence, rec.ciphertextHash);
        return undefined;
      },
    }).catch((e: Error) => e);
    expect((err as Error).message).to.include("AgentRegistryNoResurrectionConsent");
    expect(existsSync(target)).to.equal(false);
    expect(readdirSync(s.root).filter((n) => n.startsWith(".covenant-restore"))).to.deep.equal([]);
  });

  it("a non-empty target is refused before anything is read", async () => {
    const s = await setup();
    await s.recordDirect(await s.backup(s.agentId, 1));
    const target = path.join(s.memory, s.agentId.toString());
    expect(await refusal(restore(s, s.agentId, target))).to.equal("TARGET_NOT_EMPTY");
  });
});
