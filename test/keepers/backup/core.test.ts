import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import type { Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ARCHIVE_MAGIC, type ArchiveEntry, packEntries, unpackEntries } from "../../../keepers/backup/archive";
import { IpfsHttpStore, LocalContentStore } from "../../../keepers/backup/contentStore";
import { planAnchors, restoreCandidates } from "../../../keepers/backup/decide";
import { open, seal, sha256 } from "../../../keepers/backup/envelope";
import { BackupError } from "../../../keepers/backup/errors";
import { commitStaged, createAgentFolder, readFolder, stageEntries } from "../../../keepers/backup/folder";
import { createKeystore, readKeystore, rotateBackupKey } from "../../../keepers/backup/keystore";
import { buildManifest, parseManifest, signRecord } from "../../../keepers/backup/record";
import { contentAddress } from "../../../keepers/earnings/publish";
import { fromViemAccount } from "../../../sdk";
import { makeTempDir } from "../../helpers/tmp";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
const binding = { chainId: 31337, registry: REGISTRY, agentId: 7n, sequence: 3 };
const key = Buffer.alloc(32, 7);
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof BackupError) return err.code;
    throw err;
  }
  return undefined;
}

async function codeAsync(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof BackupError) return err.code;
    throw err;
  }
  return undefined;
}

/** Random memory trees: nested folders, files of any bytes, names from a small alphabet (collisions dropped). */
const segment = fc.stringMatching(/^[a-zA-Z0-9_\-.]{1,12}$/).filter((s) => s !== "." && s !== "..");
const treeArb = fc
  .array(
    fc.record({
      dirs: fc.array(segment, { maxLength: 3 }),
      name: segment,
      data: fc.uint8Array({ maxLength: 2_000 }),
      emptyDir: fc.boolean(),
    }),
    { maxLength: 20 },
  )
  .map((items) => {
    const entries = new Map<string, ArchiveEntry>();
    for (const it of items) {
      const parents = it.dirs.map((_, i) => it.dirs.slice(0, i + 1).join("/"));
      const full = [...it.dirs, it.name].join("/");
      if ([...parents, full].some((p) => entries.get(p)?.type === "file")) continue;
      if ([...entries.keys()].some((k) => k.startsWith(`${full}/`))) continue;
      if (entries.has(full)) continue;
      for (const p of parents) entries.set(p, { type: "dir", path: p });
      entries.set(full, it.emptyDir ? { type: "dir", path: full } : { type: "file", path: full, data: it.data });
    }
    return [...entries.values()];
  });

describe("backup keeper: pure parts", () => {
  before(() => console.log(`      fast-check seed ${SEED} (FC_SEED to replay)`));

  describe("archive", () => {
    it("same memory, same bytes, whatever the order entries are given in", () => {
      fc.assert(
        fc.property(treeArb, (entries) => {
          const a = packEntries(entries);
          expect(packEntries([...entries].reverse())).to.deep.equal(a);
          const back = unpackEntries(a);
          expect(packEntries(back)).to.deep.equal(a);
        }),
        { seed: SEED, numRuns: 200 },
      );
    });

    it("refuses entries that climb out (../, absolute paths), links and malformed archives", () => {
      for (const bad of ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a\\..\\b", "C:/x", ""]) {
        expect(
          code(() => packEntries([{ type: "file", path: bad, data: new Uint8Array() }])),
          bad,
        ).to.equal("ARCHIVE_UNSAFE_PATH");
      }
      // Hand-made archives: a '..' entry, a link entry (type 3), trailing and truncated bytes.
      const entry = (type: number, name: string, data?: Buffer) => {
        const n = Buffer.from(name);
        const head = Buffer.from([type, n.length >> 8, n.length & 0xff]);
        const size = Buffer.alloc(8);
        if (data) size.writeBigUInt64BE(BigInt(data.length));
        return Buffer.concat([head, n, ...(data ? [size, data] : [])]);
      };
      const archive = (...entries: Buffer[]) => {
        const count = Buffer.alloc(4);
        count.writeUInt32BE(entries.length);
        return Buffer.concat([ARCHIVE_MAGIC, count, ...entries]);
      };
      expect(code(() => unpackEntries(archive(entry(1, "../evil", Buffer.from("x")))))).to.equal("ARCHIVE_UNSAFE_PATH");
      expect(code(() => unpackEntries(archive(entry(1, "/abs", Buffer.from("x")))))).to.equal("ARCHIVE_UNSAFE_PATH");
      expect(code(() => unpackEntries(archive(entry(3, "link"))))).to.equal("ARCHIVE_LINK");
      const good = archive(entry(1, "a", Buffer.from("hello")));
      expect(unpackEntries(good)).to.have.length(1);
      expect(code(() => unpackEntries(good.subarray(0, good.length - 1)))).to.equal("ARCHIVE_INVALID");
      expect(code(() => unpackEntries(Buffer.concat([good, Buffer.from([0])])))).to.equal("ARCHIVE_INVALID");
      expect(
        code(() => unpackEntries(archive(entry(1, "b", Buffer.from("")), entry(1, "a", Buffer.from(""))))),
      ).to.equal("ARCHIVE_INVALID");
      expect(
        code(() => unpackEntries(archive(entry(1, "a", Buffer.from("")), entry(1, "a/b", Buffer.from(""))))),
      ).to.equal("ARCHIVE_INVALID");
      expect(code(() => unpackEntries(Buffer.from("PK\u0003\u0004 not ours")))).to.equal("ARCHIVE_INVALID");
    });

    it("a restored folder is byte-identical to the backed-up one (random trees on disk)", async () => {
      const root = makeTempDir("covenant-bk-tree-");
      let n = 0;
      await fc.assert(
        fc.asyncProperty(treeArb, async (entries) => {
          const src = path.join(root, `src-${n}`);
          const dst = path.join(root, `dst-${n++}`);
          mkdirSync(src);
          const staged = await stageEntries(entries, path.join(root, `tmp-${n}`));
          await commitStaged(staged, src);
          const bytes = packEntries(await readFolder(src));
          const restored = await stageEntries(unpackEntries(bytes), dst);
          await commitStaged(restored, dst);
          expect(packEntries(await readFolder(dst))).to.deep.equal(bytes);
          for (const e of entries) {
            const p = path.join(dst, ...e.path.split("/"));
            if (e.type === "file") {
              expect(readFileSync(p)).to.deep.equal(Buffer.from(e.data));
              expect(statSync(p).mode & 0o777).to.equal(0o600);
            } else {
              expect(statSync(p).mode & 0o777).to.equal(0o700);
            }
          }
        }),
        { seed: SEED, numRuns: 40 },
      );
    });

    it("a memory folder with a link (to another agent's folder, say) is refused, never followed", async () => {
      const root = makeTempDir("covenant-bk-link-");
      const a = await createAgentFolder(root, 1n);
      const b = await createAgentFolder(root, 2n);
      writeFileSync(path.join(b, "facts.json"), "secret of agent 2");
      expect(statSync(a).mode & 0o777).to.equal(0o700);
      expect(statSync(path.join(a, "facts.json")).mode & 0o777).to.equal(0o600);
      symlinkSync(path.join(b, "facts.json"), path.join(a, "memory_index", "peek"));
      expect(await codeAsync(() => readFolder(a))).to.equal("ARCHIVE_LINK");
      symlinkSync(b, path.join(root, "3"));
      expect(await codeAsync(() => readFolder(path.join(root, "3")))).to.equal("FOLDER_INVALID");
    });

    it("a restore never writes into a non-empty folder", async () => {
      const root = makeTempDir("covenant-bk-target-");
      const target = path.join(root, "t");
      mkdirSync(target);
      writeFileSync(path.join(target, "keep"), "x");
      const staged = await stageEntries([{ type: "file", path: "a", data: Buffer.from("1") }], target);
      expect(await codeAsync(() => commitStaged(staged, target))).to.equal("TARGET_NOT_EMPTY");
      expect(readFileSync(path.join(target, "keep"), "utf8")).to.equal("x");
    });
  });

  describe("envelope (AES-256-GCM)", () => {
    it("round-trips, with a fresh nonce each time", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 5_000 }), (plain) => {
          const a = seal(plain, key, 1, binding);
          const b = seal(plain, key, 1, binding);
          expect(a.equals(b)).to.equal(false);
          expect(open(a, key, binding)).to.deep.equal(Buffer.from(plain));
        }),
        { seed: SEED, numRuns: 100 },
      );
    });

    it("detects any changed byte, a truncation, a wrong key and another binding (agent, sequence, registry, chain)", () => {
      const env = seal(Buffer.from("the memory of agent 7"), key, 1, binding);
      fc.assert(
        fc.property(fc.integer({ min: 12, max: env.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
          const bad = Buffer.from(env);
          bad[i] = bad[i]! ^ x;
          expect(code(() => open(bad, key, binding))).to.equal("DECRYPT_FAILED");
        }),
        { seed: SEED, numRuns: 100 },
      );
      expect(code(() => open(env.subarray(0, env.length - 1), key, binding))).to.equal("DECRYPT_FAILED");
      expect(code(() => open(env.subarray(0, 20), key, binding))).to.equal("ENVELOPE_INVALID");
      expect(code(() => open(env, Buffer.alloc(32, 8), binding))).to.equal("DECRYPT_FAILED");
      for (const other of [
        { ...binding, agentId: 8n },
        { ...binding, sequence: 2 },
        { ...binding, chainId: 1 },
        { ...binding, registry: "0x0000000000000000000000000000000000000001" as Address },
      ]) {
        expect(code(() => open(env, key, other))).to.equal("DECRYPT_FAILED");
      }
    });
  });

  describe("keystore", () => {
    it("0600, keeps every key version across rotations, refuses a wrong password and another agent's file", async () => {
      const dir = makeTempDir("covenant-bk-ks-");
      const file = path.join(dir, "keys", "7.keystore.json");
      const signerKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
      const created = await createKeystore(file, 7n, "pw", { N: 1024, signerKey });
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect(statSync(path.dirname(file)).mode & 0o777).to.equal(0o700);
      expect(readFileSync(file, "utf8")).not.to.include(created.backupKeys[0]!.key.toString("hex"));
      expect(readFileSync(file, "utf8")).not.to.include(signerKey.slice(2));
      const rotated = await rotateBackupKey(file, "pw", { N: 1024 });
      expect(rotated.backupKeys.map((k) => k.version)).to.deep.equal([1, 2]);
      const read = await readKeystore(file, "pw", 7n);
      expect(read.backupKeys[0]!.key).to.deep.equal(created.backupKeys[0]!.key);
      expect(read.signerKey).to.equal(signerKey);
      expect(await codeAsync(() => readKeystore(file, "wrong"))).to.equal("KEYSTORE_PASSWORD");
      expect(await codeAsync(() => readKeystore(file, "pw", 8n))).to.equal("KEYSTORE_INVALID");
      expect(await codeAsync(() => createKeystore(file, 7n, "pw", { N: 1024 }))).to.equal("KEYSTORE_INVALID");
    });
  });

  describe("content stores", () => {
    it("the local store names blobs by their real IPFS CIDv1 and gives the same bytes back", async () => {
      const store = new LocalContentStore(makeTempDir("covenant-bk-store-"));
      const big = Buffer.alloc(3 * 1024 * 1024 + 5, 1);
      for (const bytes of [Buffer.from("small"), big]) {
        const cid = await store.put(bytes);
        expect(cid).to.equal(await contentAddress(bytes));
        expect(await store.get(cid)).to.deep.equal(bytes);
        expect(statSync(path.join(store.dir, cid)).mode & 0o777).to.equal(0o600);
      }
      expect(await codeAsync(async () => store.get(await contentAddress(Buffer.from("absent"))))).to.equal(
        "BLOB_NOT_FOUND",
      );
      expect(await codeAsync(() => store.get("not-a-cid"))).to.equal("BLOB_NOT_FOUND");
    });

    it("the IPFS HTTP store adds (pinned, CIDv1, raw leaves) and cats through Kubo's API, on loopback", async () => {
      const blobs = new Map<string, Buffer>();
      const seen: string[] = [];
      let failNext = 0;
      const server = createServer(async (req: IncomingMessage, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const url = new URL(req.url ?? "", "http://x");
        seen.push(`${req.method} ${url.pathname}?${url.searchParams}`);
        if (failNext-- > 0) {
          res.statusCode = 503;
          return res.end("busy");
        }
        if (url.pathname === "/api/v0/add") {
          // The multipart body holds the file between the part headers and the closing boundary.
          const body = Buffer.concat(chunks);
          const start = body.indexOf("\r\n\r\n") + 4;
          const end = body.lastIndexOf(Buffer.from("\r\n--"));
          const data = body.subarray(start, end);
          const cid = await contentAddress(data);
          blobs.set(cid, Buffer.from(data));
          return res.end(`${JSON.stringify({ Name: "backup", Hash: cid, Size: String(data.length) })}\n`);
        }
        if (url.pathname === "/api/v0/cat") {
          const blob = blobs.get(url.searchParams.get("arg") ?? "");
          if (!blob) {
            res.statusCode = 500;
            return res.end(
              JSON.stringify({ Message: "block was not found locally (offline): ipld: could not find", Code: 0 }),
            );
          }
          return res.end(blob);
        }
        res.statusCode = 404;
        res.end();
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const store = new IpfsHttpStore(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
        const bytes = Buffer.from("encrypted memory");
        const cid = await store.put(bytes);
        expect(cid).to.equal(await contentAddress(bytes));
        expect(seen[0]).to.equal("POST /api/v0/add?cid-version=1&raw-leaves=true&chunker=size-1048576&pin=true");
        expect(await store.get(cid)).to.deep.equal(bytes);
        expect(seen[1]).to.equal(`POST /api/v0/cat?arg=${cid}`);
        expect(await codeAsync(async () => store.get(await contentAddress(Buffer.from("nope"))))).to.equal(
          "BLOB_NOT_FOUND",
        );
        failNext = 1;
        const err = await store.put(bytes).catch((e: BackupError) => e);
        expect([(err as BackupError).code, (err as BackupError).retryable]).to.deep.equal(["STORE_UNAVAILABLE", true]);
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
      const down = new IpfsHttpStore("http://127.0.0.1:1");
      const err = await down.put(Buffer.from("x")).catch((e: BackupError) => e);
      expect([(err as BackupError).code, (err as BackupError).retryable]).to.deep.equal(["STORE_UNAVAILABLE", true]);
    });
  });

  describe("records, batches and decisions", () => {
    it("a manifest rebuilds its tree; another root or a changed record is refused", async () => {
      const signer = fromViemAccount(
        privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
      );
      const cid = await contentAddress(Buffer.from("blob"));
      const records = await Promise.all(
        [1, 2, 3].map((s) =>
          signRecord(
            signer,
            { chainId: 31337, registry: REGISTRY },
            {
              agentId: BigInt(s),
              sequence: s,
              ciphertextHash: `0x${sha256(Buffer.from([s])).toString("hex")}`,
              cid,
              deadline: 0n,
            },
          ),
        ),
      );
      const { bytes, tree } = buildManifest(31337, REGISTRY, [...records].reverse());
      expect(parseManifest(bytes, tree.root as `0x${string}`).records).to.have.length(3);
      expect(code(() => parseManifest(bytes, `0x${"00".repeat(32)}`))).to.equal("RECORD_INVALID");
      const changed = Buffer.from(bytes.toString().replace('"sequence":2', '"sequence":5'));
      expect(code(() => parseManifest(changed, tree.root as `0x${string}`))).to.equal("RECORD_INVALID");
      expect(code(() => parseManifest(Buffer.from("{}")))).to.equal("RECORD_INVALID");
    });

    it("plans direct records one by one and batches by size or age, with stable keys", () => {
      const pending = Array.from({ length: 5 }, (_, i) => ({
        id: String(i + 1),
        agentId: BigInt(i % 2),
        sequence: i + 1,
        waitingMs: 10,
      }));
      const direct = planAnchors(pending, "direct", { maxLeaves: 2, minLeaves: 1, maxWaitMs: 1_000 });
      expect(direct.map((p) => p.key)).to.deep.equal([
        "backup:record:agent-0:seq-1",
        "backup:record:agent-1:seq-2",
        "backup:record:agent-0:seq-3",
        "backup:record:agent-1:seq-4",
        "backup:record:agent-0:seq-5",
      ]);
      const batch = planAnchors(pending, "batch", { maxLeaves: 2, minLeaves: 2, maxWaitMs: 1_000 });
      expect(batch.map((p) => p.key)).to.deep.equal(["backup:anchor:first-1:n-2", "backup:anchor:first-3:n-2"]);
      const old = pending.map((p) => ({ ...p, waitingMs: 5_000 }));
      expect(planAnchors(old, "batch", { maxLeaves: 2, minLeaves: 2, maxWaitMs: 1_000 })).to.have.length(3);
      expect(planAnchors(pending, "batch", { maxLeaves: 10, minLeaves: 6, maxWaitMs: 1_000 })).to.deep.equal([]);
    });

    it("restores the latest record, or exactly the sequence asked for; none is NO_BACKUP", () => {
      const rec = (agentId: bigint, sequence: number, kind: "direct" | "anchor") => ({
        record: { agentId, sequence, ciphertextHash: "0x00" as const, cid: "x", deadline: 0n },
        source:
          kind === "direct"
            ? { kind, txHash: "0x01" as const, blockNumber: 1n }
            : { kind, index: 0n, root: "0x02" as const, proof: [], signature: "0x03" as const, signer: REGISTRY },
      });
      const all = [rec(1n, 1, "direct"), rec(1n, 3, "anchor"), rec(1n, 3, "direct"), rec(2n, 9, "direct")];
      const best = restoreCandidates(1n, all);
      expect(best.map((c) => [c.record.sequence, c.source.kind])).to.deep.equal([
        [3, "direct"],
        [3, "anchor"],
      ]);
      expect(restoreCandidates(1n, all, 1).map((c) => c.record.sequence)).to.deep.equal([1]);
      expect(code(() => restoreCandidates(1n, all, 2))).to.equal("NO_BACKUP");
      expect(code(() => restoreCandidates(3n, all))).to.equal("NO_BACKUP");
    });
  });
});

describe("backup keeper: configuration", () => {
  it("fails fast naming every missing or bad variable, never echoing the password", async () => {
    const { loadConfig, ConfigError } = await import("../../../keepers/shared");
    const { backupConfigSchema } = await import("../../../keepers/backup/config");
    const base = {
      RPC_URLS: "http://127.0.0.1:8545",
      CHAIN_ID: "31337",
      KEEPER_PRIVATE_KEY: `0x${"11".repeat(32)}`,
    };
    let err: unknown;
    try {
      loadConfig(backupConfigSchema, { ...base, ANCHOR_MODE: "sometimes", REGISTRY_ADDRESS: "0x12" });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    const vars = (err as InstanceType<typeof ConfigError>).issues.map((i) => i.variable).sort();
    expect(vars).to.deep.equal([
      "AGENT_KEYSTORE_PASSWORD",
      "ANCHOR_MODE",
      "KEYSTORE_DIR",
      "MEMORY_DIR",
      "REGISTRY_ADDRESS",
    ]);
    const ok = loadConfig(backupConfigSchema, {
      ...base,
      REGISTRY_ADDRESS: REGISTRY,
      MEMORY_DIR: "/m",
      KEYSTORE_DIR: "/k",
      AGENT_KEYSTORE_PASSWORD: "hunter2",
    });
    expect([ok.ANCHOR_MODE, ok.BATCH_MAX_LEAVES, ok.BACKUP_PRICE]).to.deep.equal(["direct", 4096, 0n]);
    expect(JSON.stringify(ok, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.to.include("hunter2");
    expect(ok.AGENT_KEYSTORE_PASSWORD.reveal()).to.equal("hunter2");
  });
});
