/**
 * Backup benchmark: backup-and-restore cycles through the backup keeper's pipeline, with injected faults, on Hardhat's
 * in-process chain with the real AgentRegistry.
 *
 *   npm run bench:backup              # 10,000 cycles over 100 agents
 *   npm run bench:backup:ci           # the short version CI runs (1,000 cycles over 20 agents)
 *   BENCH_CYCLES=2000 BENCH_AGENTS=50 BENCH_FAULT_RATE=0.1 npm run bench:backup
 *
 * Set-up (not timed): the registry, BENCH_AGENTS agents each with its own signer key, charter, resurrection consent,
 * memory folder and backup key. Then, round after round, every agent's memory changes and is backed up: archive,
 * AES-256-GCM, stored by CID in a local store whose writes fail BENCH_FAULT_RATE of the time, agent-signed. The signed
 * records are anchored with anchorBackups in batches of up to BENCH_BATCH leaves, through a chain sender that fails
 * BENCH_FAULT_RATE of submissions. A failed write or submission is retried up to 5 times with exponential backoff.
 * (Batches make submissions few: the restores' chain reads — consent, verifyAnchoredBackup — fail at the same rate.)
 * Then every backup is restored by its sequence (consent, verifyAnchoredBackup, sha256, decrypt, unpack, read back)
 * and compared with the memory as it was backed up. Restorations are not recorded on chain here (10,000 Restored
 * events would measure Hardhat); the keeper and CLI tests cover that step.
 *
 * Prints the success rate after retries (target ≥ 99.9 %), silent corruptions (a restore that succeeded with other
 * bytes; must be 0), the pipeline throughput for a 10 MB folder (archive + sha256 + encrypt; target ≥ 100 MB/s) and
 * the transactions used to anchor all the backups (target ≤ 10). Exits 1 when a target is missed.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hre from "hardhat";
import { type Address, createPublicClient, custom, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { archiveParts, packEntries } from "../../keepers/backup/archive";
import type { LocatedRecord, RegistryRef } from "../../keepers/backup/chain";
import { type ContentStore, LocalContentStore } from "../../keepers/backup/contentStore";
import { planAnchors } from "../../keepers/backup/decide";
import { sealParts } from "../../keepers/backup/envelope";
import { BackupError } from "../../keepers/backup/errors";
import { createAgentFolder, readFolder } from "../../keepers/backup/folder";
import { type AgentSecrets, newBackupKey } from "../../keepers/backup/keystore";
import { createBackup, restoreAgent, sealFolder } from "../../keepers/backup/pipeline";
import { buildManifest, leafOf, type SignedBackupRecord } from "../../keepers/backup/record";
import { withRetry } from "../../keepers/shared";
import { type AgentSigner, fromViemAccount, toBytes32Text } from "../../sdk";
import { AgentRegistry__factory } from "../../typechain-types";

const CYCLES = Number(process.env.BENCH_CYCLES ?? 10_000);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 100);
const FAULT_RATE = Number(process.env.BENCH_FAULT_RATE ?? 0.05);
const BATCH = Number(process.env.BENCH_BATCH ?? 4_096);
const THROUGHPUT_MB = Number(process.env.BENCH_THROUGHPUT_MB ?? 10);
const THROUGHPUT_RUNS = Number(process.env.BENCH_THROUGHPUT_RUNS ?? 7);
const WARMUP_RUNS = 3;
const CONCURRENCY = 8;
const RETRY = { retries: 5, baseDelayMs: 2, maxDelayMs: 100 };

/** A fault the bench injects; retryable, as a store or RPC outage would be. */
class InjectedFault extends BackupError {
  constructor(what: string) {
    super(`injected fault: ${what}`, { code: "STORE_UNAVAILABLE", retryable: true });
  }
}

/** A content store whose writes fail `rate` of the time (before writing anything). */
class FaultyStore implements ContentStore {
  readonly kind = "local";
  writes = 0;
  failures = 0;
  constructor(
    private readonly inner: ContentStore,
    private readonly rate: number,
  ) {}
  async put(bytes: Uint8Array): Promise<string> {
    this.writes++;
    if (Math.random() < this.rate) {
      this.failures++;
      throw new InjectedFault("store write");
    }
    return this.inner.put(bytes);
  }
  get(cid: string): Promise<Buffer> {
    return this.inner.get(cid);
  }
}

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function throughput(dir: string, secrets: AgentSecrets, binding: { chainId: number; registry: Address }) {
  const folder = path.join(dir, "throughput");
  mkdirSync(path.join(folder, "memory_index"), { recursive: true });
  const total = THROUGHPUT_MB * 1024 * 1024;
  const files = 40;
  for (let i = 0; i < files; i++) {
    writeFileSync(path.join(folder, "memory_index", `chunk-${i}.bin`), randomBytes(Math.floor(total / files)));
  }
  writeFileSync(path.join(folder, "facts.json"), JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ i }))));
  // Two figures: the pipeline the target is about (archive + sha256 + encrypt, the folder's files already read), and
  // the whole seal including reading the folder from disk (which on a loaded machine varies most).
  const entries = await readFolder(folder);
  const key = secrets.backupKeys[0]!;
  const pipeline: number[] = [];
  const withRead: number[] = [];
  // Wall-clock rates depend on what else the machine runs; the rate per CPU-second of this process does not.
  const onCpu: number[] = [];
  let bytes = 0;
  // Warm-up: the page cache, the JIT and the allocator (the first 10 MB buffers of a process fault their pages in).
  for (let i = 0; i < WARMUP_RUNS; i++) await sealFolder(folder, binding, secrets.agentId, 1, secrets);
  for (let i = 0; i < THROUGHPUT_RUNS; i++) {
    let t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const parts = archiveParts(entries);
    const envelope = sealParts(parts, key.key, key.version, { ...binding, agentId: secrets.agentId, sequence: i + 1 });
    sha(envelope);
    bytes = parts.reduce((n, p) => n + p.length, 0);
    pipeline.push(bytes / 1024 / 1024 / (Number(process.hrtime.bigint() - t0) / 1e9));
    const cpu = process.cpuUsage(cpu0);
    onCpu.push(bytes / 1024 / 1024 / ((cpu.user + cpu.system) / 1e6));
    t0 = process.hrtime.bigint();
    await sealFolder(folder, binding, secrets.agentId, i + 1, secrets);
    withRead.push(bytes / 1024 / 1024 / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { mb: bytes / 1024 / 1024, median: median(pipeline), onCpu: median(onCpu), withRead: median(withRead) };
}

async function main() {
  const started = Date.now();
  const [deployer, council, relayer, operator] = await hre.ethers.getSigners();
  if (!deployer || !council || !relayer || !operator) throw new Error("accounts");
  const registry = await new AgentRegistry__factory(deployer).deploy(deployer.address, council.address, 86_400);
  await registry.waitForDeployment();
  await registry.grantRole(await registry.RELAYER_ROLE(), relayer.address);
  const registryAddress = (await registry.getAddress()) as Address;
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  const binding = { chainId, registry: registryAddress };
  const client = createPublicClient({ transport: custom(hre.network.provider) });
  // The restore's chain reads (consent, verifyAnchoredBackup) fail FAULT_RATE of the time too, as a flaky RPC would.
  let readCalls = 0;
  let readFailures = 0;
  const flaky = {
    ...client,
    readContract: (async (args: Parameters<typeof client.readContract>[0]) => {
      readCalls++;
      if (Math.random() < FAULT_RATE) {
        readFailures++;
        throw new InjectedFault("chain read");
      }
      return client.readContract(args);
    }) as typeof client.readContract,
  };
  const ref: RegistryRef = { client: flaky as never, registry: registryAddress };
  const root = path.join(tmpdir(), `covenant-bench-backup-${process.pid}`);
  const store = new FaultyStore(new LocalContentStore(path.join(root, "blobs")), FAULT_RATE);

  // Throughput first, on a quiet heap (before the chain and ten thousand backups fill it).
  const speed = await throughput(root, { agentId: 1n, backupKeys: [newBackupKey(1)] }, binding);
  console.log(`backup bench: ${CYCLES} cycles over ${AGENTS} agents, ${FAULT_RATE * 100}% faults, batches ≤ ${BATCH}`);
  type Agent = { agentId: bigint; signer: AgentSigner; secrets: AgentSecrets; folder: string };
  const agents: Agent[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const wallet = hre.ethers.Wallet.createRandom().connect(hre.ethers.provider);
    await hre.network.provider.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
    const agentId = await registry.connect(operator)["register(string)"].staticCall(`ipfs://bench/${i}`);
    await registry.connect(operator)["register(string)"](`ipfs://bench/${i}`);
    await registry.connect(operator).offerCharter(agentId, wallet.address);
    await registry.connect(wallet).acceptCharter(agentId, [toBytes32Text("bench")]);
    await registry.connect(wallet).grantResurrectionConsent(agentId);
    const folder = await createAgentFolder(path.join(root, "memory"), agentId);
    agents.push({
      agentId,
      signer: fromViemAccount(privateKeyToAccount(wallet.privateKey as Hex)),
      secrets: { agentId, backupKeys: [newBackupKey(1)] },
      folder,
    });
  }
  console.log(`set-up: ${AGENTS} agents chartered with consent in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // Backups: one per agent per round; the archive's sha256 is kept to check the restore.
  const rounds = Math.ceil(CYCLES / AGENTS);
  const expected = new Map<string, string>();
  const signed: SignedBackupRecord[] = [];
  let backupFailures = 0;
  const t0 = Date.now();
  for (let round = 1; round <= rounds; round++) {
    const batch = agents.slice(0, Math.min(AGENTS, CYCLES - (round - 1) * AGENTS));
    await pool(batch, CONCURRENCY, async (a) => {
      writeFileSync(
        path.join(a.folder, "task_state.json"),
        JSON.stringify({ round, step: randomBytes(8).toString("hex") }),
      );
      writeFileSync(path.join(a.folder, "memory_index", `chunk-${round % 7}.bin`), randomBytes(1_500));
      expected.set(`${a.agentId}:${round}`, sha(packEntries(await readFolder(a.folder))));
      try {
        const made = await withRetry(
          () =>
            createBackup({
              folder: a.folder,
              binding,
              store,
              agentId: a.agentId,
              sequence: round,
              secrets: a.secrets,
              signer: a.signer,
              deadline: 0n,
            }),
          RETRY,
        );
        signed.push(made.record);
      } catch {
        backupFailures++;
      }
    });
  }
  const backupSeconds = (Date.now() - t0) / 1000;

  // Anchoring through a chain sender that fails FAULT_RATE of submissions (before sending anything).
  let txs = 0;
  let submitFailures = 0;
  let anchorFailures = 0;
  const located = new Map<string, LocatedRecord[]>();
  const plans = planAnchors(
    signed.map((r, i) => ({ id: String(i + 1), agentId: r.agentId, sequence: r.sequence, waitingMs: 0 })),
    "batch",
    { maxLeaves: BATCH, minLeaves: 1, maxWaitMs: 0 },
  );
  const t1 = Date.now();
  for (const plan of plans) {
    if (plan.kind !== "batch") continue;
    const records = plan.records.map((p) => signed[Number(p.id) - 1]!);
    try {
      const { tree, bytes } = buildManifest(chainId, registryAddress, records);
      const cid = await withRetry(() => store.put(bytes), RETRY);
      const index = await withRetry(async () => {
        if (Math.random() < FAULT_RATE) {
          submitFailures++;
          throw new InjectedFault("chain submission");
        }
        const i = await registry.anchorCount();
        const receipt = await (
          await registry.connect(relayer).anchorBackups(tree.root, records.length, `ipfs://${cid}`)
        ).wait();
        if (receipt?.status !== 1) throw new Error("anchor reverted");
        txs++;
        return i;
      }, RETRY);
      const positions = new Map<string, number>();
      for (const [i, leaf] of tree.entries()) positions.set(leaf.join(":"), i);
      for (const r of records) {
        const k = r.agentId.toString();
        const proof = tree.getProof(positions.get(leafOf(r).join(":"))!) as Hex[];
        const list = located.get(k) ?? [];
        list.push({
          record: r,
          source: { kind: "anchor", index, root: tree.root as Hex, proof, signature: r.signature, signer: r.signer },
        });
        located.set(k, list);
      }
    } catch {
      anchorFailures += records.length;
    }
  }
  const anchorSeconds = (Date.now() - t1) / 1000;

  // Restores: every backup, by its sequence, compared with the memory as it was backed up.
  let restored = 0;
  let restoreFailures = 0;
  let silentCorruptions = 0;
  const t2 = Date.now();
  const cycles = [...located.values()].flat();
  await pool(cycles, CONCURRENCY, async (l) => {
    const a = agents.find((x) => x.agentId === l.record.agentId)!;
    const target = path.join(root, "restore", `${l.record.agentId}-${l.record.sequence}`);
    try {
      // Only injected (retryable) faults are retried; a refusal of the data is final.
      await withRetry(
        () =>
          restoreAgent({
            ref,
            binding,
            store,
            agentId: a.agentId,
            secrets: a.secrets,
            target,
            located: located.get(a.agentId.toString())!,
            sequence: l.record.sequence,
          }),
        { ...RETRY, shouldRetry: (err) => err instanceof InjectedFault },
      );
      if (sha(packEntries(await readFolder(target))) === expected.get(`${a.agentId}:${l.record.sequence}`)) restored++;
      else silentCorruptions++;
    } catch (err) {
      restoreFailures++;
      if (restoreFailures <= 3) console.error(`restore failed: ${(err as Error).message}`);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });
  const restoreSeconds = (Date.now() - t2) / 1000;

  rmSync(root, { recursive: true, force: true });

  const attempted = Math.min(CYCLES, rounds * AGENTS);
  const successRate = (restored / attempted) * 100;
  console.log(
    `backups:   ${signed.length}/${attempted} sealed, stored and signed in ${backupSeconds.toFixed(1)} s (${backupFailures} failed after retries)`,
  );
  console.log(
    `faults:    ${store.failures} of ${store.writes} store writes, ${submitFailures} of ${submitFailures + txs} chain submissions, ${readFailures} of ${readCalls} chain reads (all retried)`,
  );
  console.log(
    `anchoring: ${signed.length - anchorFailures} records in ${txs} anchorBackups transactions, ${anchorSeconds.toFixed(1)} s`,
  );
  console.log(`restores:  ${restored} byte-identical in ${restoreSeconds.toFixed(1)} s, ${restoreFailures} failed`);
  console.log(`success rate after retries: ${successRate.toFixed(3)}% (target ≥ 99.9%)`);
  console.log(`silent corruptions: ${silentCorruptions} (must be 0)`);
  console.log(
    `pipeline throughput (${speed.mb.toFixed(1)} MB folder, archive + sha256 + encrypt): ${speed.median.toFixed(0)} MB/s wall clock, ${speed.onCpu.toFixed(0)} MB/s per CPU-second, median of ${THROUGHPUT_RUNS} runs after ${WARMUP_RUNS} warm-up (target ≥ 100 MB/s); including reading the folder from disk: ${speed.withRead.toFixed(0)} MB/s wall clock`,
  );
  console.log(`transactions to anchor ${signed.length} backups: ${txs} (target ≤ 10)`);
  console.log(`bench finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const failed: string[] = [];
  if (successRate < 99.9) failed.push("success rate");
  if (silentCorruptions !== 0) failed.push("silent corruptions");
  // Judged per CPU-second: on a shared machine the wall clock measures the neighbours (both figures are printed).
  if (speed.onCpu < 100) failed.push("throughput");
  if (txs > 10) failed.push("anchoring transactions");
  if (failed.length > 0) {
    console.error(`targets missed: ${failed.join(", ")}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
