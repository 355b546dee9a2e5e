import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createPublicClient, createWalletClient, http, parseAbi, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { packEntries } from "../../keepers/backup/archive";
import { directRecords, type RegistryRef, registryBackupAbi } from "../../keepers/backup/chain";
import { cidToBytes, LocalContentStore } from "../../keepers/backup/contentStore";
import { BackupError } from "../../keepers/backup/errors";
import { agentFolder, createAgentFolder, readFolder } from "../../keepers/backup/folder";
import { type AgentSecrets, createKeystore, readKeystore } from "../../keepers/backup/keystore";
import { type Binding, createBackup, restoreAgent } from "../../keepers/backup/pipeline";
import { buildAction, fromViemAccount, signAction } from "../../sdk";
import type { Agent } from "./agents";
import { ACCOUNTS, devKey, type Suite } from "./deploy";

/** Dev accounts no other process of the simulation uses: the backup keeper's relay key, the clone's second host. */
const BACKUP_RELAYER = 18;
const CLONE_HOST = 19;

import type { Rng } from "./rng";

/*
 * The backup step of a round: the backup keeper (keepers/backup) runs as a process like the other keepers (started
 * by run.ts with `keeperEnv`), every honest agent's memory folder (MEMORY_DIR/<agentId>, the six entries) is written
 * and backed up through POST /agents/:id/wake-end, and a backup counts as acknowledged once the keeper reports it done
 * (its record relayed with recordBackupBySig and confirmed). The clone's second host, holding the same agent key and
 * keystore, writes other memory and tries to anchor a record for the sequence the original just anchored. At the end
 * every acknowledged backup is restored with the restore pipeline (keepers/backup/pipeline.ts) into an empty folder
 * and compared byte for byte with what was backed up, and one stored blob is tampered with and must be refused.
 */

export type BackupFindings = {
  /** Backups the keeper acknowledged that cannot be found or restored at the end. */
  lostBackups: number;
  /** Restores that returned data other than what was backed up, or a clone's write, and were accepted. */
  corruptedRestoresAccepted: number;
  /** Conflicting records from the clone's two hosts that the keeper detected. */
  conflictsDetected: number;
  /** Honest agents whose own restore failed. */
  failedRestores: bigint[];
  /** One line for the report. */
  summary: string;
  /** The counts behind it (report.json's backupFigures). */
  figures: BackupFigures;
};

export type BackupFigures = {
  acknowledged: number;
  notAcknowledged: number;
  restoredByteIdentical: number;
  lostBackups: number;
  corruptedRestoresAccepted: number;
  conflictingBackupsDetected: number;
  cloneRecordsAccepted: number;
  tamperedBlobs: number;
  tamperedRestoresRefused: number;
};

export interface BackupRound {
  /** Backs up every agent's memory folder; the clone's second host writes a conflicting record. One summary line. */
  round(round: number, agents: Agent[], rng: Rng): Promise<string>;
  /** Restores every acknowledged backup, checks it against the folder it came from, and a tampered blob is refused. */
  findings(agents: Agent[]): Promise<BackupFindings>;
}

export type BackupAvailability = {
  round?: BackupRound;
  reason: string;
  /** The backup keeper's own variables (run.ts adds RPC, chain and store ones). */
  keeperEnv?: Record<string, string>;
};

const REPO = resolve(__dirname, "..", "..");
const PASSWORD = "simulate keystore password";

export type BackupContext = {
  rpcUrl: string;
  suite: Suite;
  agents: Agent[];
  runDir: string;
  /** The running backup keeper's URL (it is restarted on the same port). */
  keeperUrl: () => string;
  log: (line: string) => void;
};

type Acked = { sequence: number; cid: string; snapshot: Buffer };

async function call(url: string, method: "GET" | "POST", body?: unknown) {
  const res = await fetch(url, {
    method,
    ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const errorName = (err: unknown): string => {
  for (let e = err as { name?: string; cause?: unknown; data?: { errorName?: string } } | undefined; e; ) {
    if (e.data?.errorName) return e.data.errorName;
    e = e.cause as typeof e;
  }
  return (err as Error).message?.slice(0, 200) ?? String(err);
};

export async function loadBackupRound(ctx?: BackupContext): Promise<BackupAvailability> {
  if (!existsSync(join(REPO, "keepers", "backup", "main.ts"))) {
    return { reason: "keepers/backup is not part of this build: backups were not simulated" };
  }
  if (!ctx) return { reason: "no simulation context: backups were not simulated" };
  return new SimBackups(ctx).prepare();
}

class SimBackups implements BackupRound {
  readonly root: string;
  readonly memoryDir: string;
  readonly keystoreDir: string;
  readonly storeDir: string;
  readonly restoreRoot: string;
  readonly binding: Binding;
  readonly ref: RegistryRef;
  readonly acked = new Map<bigint, Acked[]>();
  readonly secrets = new Map<bigint, AgentSecrets>();
  failedBackups = 0;
  conflictsDetected = 0;
  /** Clone records the registry took (it should take none): counted, and restores then show whose memory came back. */
  cloneAccepted = 0;
  cloneNotes: string[] = [];

  constructor(readonly ctx: BackupContext) {
    this.root = join(ctx.runDir, "backup");
    this.memoryDir = join(this.root, "memory");
    this.keystoreDir = join(this.root, "keystores");
    this.storeDir = join(this.root, "blobs");
    this.restoreRoot = join(this.root, "restored");
    this.binding = { chainId: ctx.suite.chainId, registry: ctx.suite.registry };
    this.ref = {
      client: createPublicClient({ transport: http(ctx.rpcUrl) }) as never,
      registry: ctx.suite.registry,
      fromBlock: ctx.suite.startBlock,
    };
  }

  private honest(agents: Agent[]) {
    return agents.filter((a) => a.role !== "byzantine");
  }

  /** Memory folders and keystores for every agent; resurrection consent granted by each honest agent's signature. */
  async prepare(): Promise<BackupAvailability> {
    const relayer = createWalletClient({
      account: privateKeyToAccount(devKey(ACCOUNTS.identityRelayer)),
      transport: http(this.ctx.rpcUrl),
    });
    const deployment = { chainId: this.ctx.suite.chainId, registry: this.ctx.suite.registry };
    const block = await this.ref.client.getBlock();
    for (const a of this.ctx.agents) {
      const dir = await createAgentFolder(this.memoryDir, a.agentId);
      // The agent's memory so far (agents.ts) moves into the keeper's layout: MEMORY_DIR/<agentId>.
      cpSync(a.memoryDir, dir, { recursive: true });
      this.secrets.set(
        a.agentId,
        await createKeystore(join(this.keystoreDir, `${a.agentId}.keystore.json`), a.agentId, PASSWORD, {
          N: 2 ** 12,
          signerKey: a.key,
        }),
      );
      if (a.role === "byzantine") continue;
      const nonce = BigInt(
        await this.ref.client.readContract({
          address: this.ctx.suite.registry,
          abi: parseAbi(["function consentNonce(uint256 agentId) view returns (uint32)"]),
          functionName: "consentNonce",
          args: [a.agentId],
        }),
      );
      const deadline = block.timestamp + 86_400n;
      const consent = await signAction(
        fromViemAccount(privateKeyToAccount(a.key)),
        buildAction("GrantResurrectionConsent", deployment, { agentId: a.agentId, nonce, deadline }),
      );
      const hash = await relayer.writeContract({
        chain: null,
        address: this.ctx.suite.registry,
        abi: [
          {
            type: "function",
            name: "grantResurrectionConsentBySig",
            stateMutability: "nonpayable",
            inputs: [
              { name: "agentId", type: "uint256" },
              { name: "nonce", type: "uint256" },
              { name: "deadline", type: "uint256" },
              { name: "signature", type: "bytes" },
            ],
            outputs: [],
          },
        ],
        functionName: "grantResurrectionConsentBySig",
        args: [a.agentId, nonce, deadline, consent.signature],
      });
      const receipt = await this.ref.client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`agent ${a.agentId}: resurrection consent not granted`);
    }
    return {
      round: this,
      reason: "backup keeper process, direct anchoring (recordBackupBySig), local content store",
      keeperEnv: {
        REGISTRY_ADDRESS: this.ctx.suite.registry,
        START_BLOCK: this.ctx.suite.startBlock.toString(),
        // Relayed records need no role; this key is used by no other process.
        KEEPER_PRIVATE_KEY: devKey(BACKUP_RELAYER),
        ANCHOR_MODE: "direct",
        MEMORY_DIR: this.memoryDir,
        KEYSTORE_DIR: this.keystoreDir,
        AGENT_KEYSTORE_PASSWORD: PASSWORD,
        STORE_DIR: this.storeDir,
        RESTORE_ROOT: this.restoreRoot,
        TX_WAIT_MS: "30000",
      },
    };
  }

  async round(round: number, agents: Agent[], rng: Rng): Promise<string> {
    const url = this.ctx.keeperUrl();
    const asked: { agent: Agent; requestId: string; snapshot: Buffer }[] = [];
    for (const a of this.honest(agents)) {
      const dir = agentFolder(this.memoryDir, a.agentId);
      const facts = JSON.parse(readFileSync(join(dir, "facts.json"), "utf8")) as unknown;
      writeFileSync(join(dir, "facts.json"), JSON.stringify({ previous: facts, round, learned: rng.next() }));
      writeFileSync(join(dir, "working_context.md"), `# round ${round}\n${toHex(rng.bigint(0n, 2n ** 128n))}\n`);
      const snapshot = packEntries(await readFolder(dir));
      const r = await call(`${url}/agents/${a.agentId}/wake-end`, "POST", {});
      if (r.status !== 202) throw new Error(`wake-end of agent ${a.agentId} answered ${r.status}`);
      asked.push({ agent: a, requestId: String(r.json.requestId), snapshot });
    }
    let done = 0;
    const failed: string[] = [];
    const until = Date.now() + 180_000;
    for (const q of asked) {
      let r: Record<string, unknown> = {};
      while (Date.now() < until) {
        r = (await call(`${this.ctx.keeperUrl()}/requests/${q.requestId}`, "GET").catch(() => ({ json: {} }))).json;
        if (r.status === "done" || r.status === "failed") break;
        await new Promise((res) => setTimeout(res, 250));
      }
      if (r.status !== "done") {
        failed.push(`${q.agent.agentId}: ${String(r.status ?? "no answer")} ${String(r.error ?? "")}`.trim());
        continue;
      }
      const b = r.backup as { sequence: number; cid: string };
      this.acked.set(q.agent.agentId, [
        ...(this.acked.get(q.agent.agentId) ?? []),
        { sequence: b.sequence, cid: b.cid, snapshot: q.snapshot },
      ]);
      done++;
    }
    this.failedBackups += failed.length;
    const clone = agents.find((a) => a.role === "clone");
    const cloneLine = clone ? await this.cloneConflict(clone, round) : "";
    return `backups: ${done}/${asked.length} acknowledged (anchored, confirmed)${failed.length ? `, not done: ${failed.slice(0, 3).join("; ")}` : ""}${cloneLine}`;
  }

  /**
   * The clone's second host: same agent key, same keystore, other memory; it seals, stores and signs a record for the
   * sequence the original's backup just took, and sends it with recordBackupBySig from its own key.
   */
  private async cloneConflict(clone: Agent, round: number): Promise<string> {
    const mine = this.acked.get(clone.agentId)?.at(-1);
    if (!mine) return "; clone: the original has no acknowledged backup this round, no conflict tried";
    const host = join(this.root, "clone-host", `round-${round}`);
    const dir = await createAgentFolder(host, clone.agentId);
    writeFileSync(join(dir, "facts.json"), JSON.stringify({ overwrittenBy: "clone host", round }));
    const block = await this.ref.client.getBlock();
    const made = await createBackup({
      folder: dir,
      binding: this.binding,
      // The same store the keeper uses: if the chain took the clone's record, a restore would find its blob.
      store: new LocalContentStore(this.storeDir),
      agentId: clone.agentId,
      sequence: mine.sequence,
      secrets: this.secrets.get(clone.agentId)!,
      signer: fromViemAccount(privateKeyToAccount(clone.key)),
      deadline: block.timestamp + 86_400n,
    });
    const r = made.record;
    const wallet = createWalletClient({
      account: privateKeyToAccount(devKey(CLONE_HOST)),
      transport: http(this.ctx.rpcUrl),
    });
    const args = [r.agentId, r.sequence, r.ciphertextHash, toHex(cidToBytes(r.cid)), r.deadline, r.signature] as const;
    let refusal: string | undefined;
    try {
      await this.ref.client.simulateContract({
        account: wallet.account,
        address: this.ref.registry,
        abi: registryBackupAbi,
        functionName: "recordBackupBySig",
        args,
      });
    } catch (err) {
      refusal = errorName(err);
    }
    if (refusal === undefined) {
      // The registry would take it: send it, and let the restores show whose memory comes back.
      const hash = await wallet.writeContract({
        chain: null,
        address: this.ref.registry,
        abi: registryBackupAbi,
        functionName: "recordBackupBySig",
        args,
      });
      await this.ref.client.waitForTransactionReceipt({ hash });
      this.cloneAccepted++;
      this.cloneNotes.push(`round ${round}: the registry accepted the clone's record for sequence ${r.sequence}`);
      return `; clone: the registry ACCEPTED the second host's record for sequence ${r.sequence}`;
    }
    const onChain = (await directRecords(this.ref, clone.agentId)).filter((l) => l.record.sequence === mine.sequence);
    const kept = onChain.length === 1 && onChain[0]!.record.cid === mine.cid;
    if (refusal === "AgentRegistryStaleBackup" && kept) this.conflictsDetected++;
    else this.cloneNotes.push(`round ${round}: refused with ${refusal}, ${onChain.length} record(s) kept`);
    return `; clone's second host: record for sequence ${r.sequence} refused (${refusal}), the chain keeps the original's`;
  }

  private keystore(agentId: bigint): Promise<AgentSecrets> {
    return readKeystore(join(this.keystoreDir, `${agentId}.keystore.json`), PASSWORD, agentId);
  }

  async findings(agents: Agent[]): Promise<BackupFindings> {
    const store = new LocalContentStore(this.storeDir);
    let lost = 0;
    let corrupted = 0;
    let restored = 0;
    const failedRestores: bigint[] = [];
    const lostNotes: string[] = [];
    for (const a of this.honest(agents)) {
      const acked = this.acked.get(a.agentId) ?? [];
      if (acked.length === 0) continue;
      const located = await directRecords(this.ref, a.agentId);
      // As a new host would: the agent's keys from its keystore file, the records from the chain.
      const secrets = await this.keystore(a.agentId);
      const latest = Math.max(...acked.map((b) => b.sequence));
      for (const b of acked) {
        const target = join(this.restoreRoot, `${a.agentId}`, `seq-${b.sequence}`);
        try {
          await restoreAgent({
            ref: this.ref,
            binding: this.binding,
            store,
            agentId: a.agentId,
            secrets,
            target,
            located,
            sequence: b.sequence,
          });
        } catch (err) {
          lost++;
          lostNotes.push(`${a.agentId}#${b.sequence}: ${(err as Error).message.slice(0, 160)}`);
          if (b.sequence === latest) failedRestores.push(a.agentId);
          continue;
        }
        if (packEntries(await readFolder(target)).equals(b.snapshot)) {
          restored++;
        } else {
          corrupted++;
          if (b.sequence === latest) failedRestores.push(a.agentId);
        }
      }
    }

    // A tampered blob: bytes flipped in one agent's oldest acknowledged backup; its restore must be refused.
    let tamperedRefused = 0;
    let tampered = 0;
    const victim = this.honest(agents)
      .filter((a) => a.role !== "clone" && (this.acked.get(a.agentId)?.length ?? 0) > 0)
      .sort((x, y) => (this.acked.get(y.agentId)?.length ?? 0) - (this.acked.get(x.agentId)?.length ?? 0))[0];
    if (victim) {
      const b = this.acked.get(victim.agentId)![0]!;
      const file = join(this.storeDir, b.cid);
      const blob = readFileSync(file);
      for (let i = 0; i < 4; i++) blob[Math.floor(blob.length / 2) + i]! ^= 0xff;
      writeFileSync(file, blob);
      tampered++;
      const target = join(this.restoreRoot, `${victim.agentId}`, `tampered-seq-${b.sequence}`);
      try {
        await restoreAgent({
          ref: this.ref,
          binding: this.binding,
          store,
          agentId: victim.agentId,
          secrets: await this.keystore(victim.agentId),
          target,
          located: await directRecords(this.ref, victim.agentId),
          sequence: b.sequence,
        });
        corrupted++;
      } catch (err) {
        if (err instanceof BackupError && err.code === "BLOB_HASH_MISMATCH" && !existsSync(target)) tamperedRefused++;
        else lostNotes.push(`tampered ${victim.agentId}#${b.sequence}: ${(err as Error).message.slice(0, 160)}`);
      }
    }
    mkdirSync(this.root, { recursive: true });
    const acknowledged = [...this.acked.values()].reduce((n, l) => n + l.length, 0);
    const figures: BackupFigures = {
      acknowledged,
      notAcknowledged: this.failedBackups,
      restoredByteIdentical: restored,
      lostBackups: lost,
      corruptedRestoresAccepted: corrupted,
      conflictingBackupsDetected: this.conflictsDetected,
      cloneRecordsAccepted: this.cloneAccepted,
      tamperedBlobs: tampered,
      tamperedRestoresRefused: tamperedRefused,
    };
    const notes = [...this.cloneNotes, ...lostNotes].slice(0, 20);
    writeFileSync(join(this.root, "findings.json"), JSON.stringify({ ...figures, notes }, null, 2));
    this.ctx.log(`backups: ${JSON.stringify(figures)}${notes.length ? ` ${notes.join("; ")}` : ""}`);
    return {
      lostBackups: lost,
      corruptedRestoresAccepted: corrupted,
      conflictsDetected: this.conflictsDetected,
      failedRestores,
      figures,
      summary:
        `${acknowledged} backups acknowledged (${this.failedBackups} not), ${restored} restored byte-identical; ` +
        `clone conflicts detected ${this.conflictsDetected}, clone records accepted ${this.cloneAccepted}; ` +
        `tampered blobs refused ${tamperedRefused}/${tampered}`,
    };
  }
}
