import path from "node:path";
import type { Command } from "commander";
import { createPublicClient, type Hex, http, type PublicClient, toHex } from "viem";
import { anchoredRecords, directRecords, type RegistryRef } from "../../keepers/backup/chain";
import { type ContentStore, cidToBytes, IpfsHttpStore, LocalContentStore } from "../../keepers/backup/contentStore";
import { nextSequence } from "../../keepers/backup/decide";
import { BackupError } from "../../keepers/backup/errors";
import { agentFolder, createAgentFolder } from "../../keepers/backup/folder";
import {
  type AgentSecrets,
  createKeystore,
  currentKey,
  readKeystore,
  rotateBackupKey,
} from "../../keepers/backup/keystore";
import { createBackup, restoreAgent } from "../../keepers/backup/pipeline";
import { watchFolder } from "../../keepers/backup/watch";
import { fromEthersSigner } from "../../sdk";
import { type CliContext, CliError, loadWallet, printJson, uintArg } from "../context";

type WithContext = <T extends unknown[]>(
  fn: (ctx: CliContext, ...args: T) => Promise<void>,
) => (...args: T) => Promise<void>;

type LocalOptions = {
  agent: string;
  memoryDir: string;
  agentKeystore?: string;
  storeDir: string;
  ipfsApi?: string;
  keeper?: string;
};

const HOME = process.env.COVENANT_HOME ?? ".covenant";
const PASSWORD_ENV = "COVENANT_AGENT_KEYSTORE_PASSWORD";

function withLocalOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--agent <id>", "the agent")
    .option(
      "--memory-dir <dir>",
      "folder of the agents' memory folders",
      process.env.COVENANT_MEMORY_DIR ?? path.join(HOME, "memory"),
    )
    .option("--agent-keystore <file>", "the agent's keystore (default <COVENANT_KEYSTORE_DIR>/<id>.keystore.json)")
    .option("--store-dir <dir>", "local content store", process.env.COVENANT_STORE_DIR ?? path.join(HOME, "blobs"))
    .option("--ipfs-api <url>", "a Kubo node's HTTP API instead of the local store", process.env.COVENANT_IPFS_API_URL)
    .option("--keeper <url>", "ask this backup keeper to do it instead of doing it here");
}

const keystoreFile = (o: { agentKeystore?: string }, agentId: bigint) =>
  o.agentKeystore ??
  path.join(process.env.COVENANT_KEYSTORE_DIR ?? path.join(HOME, "keystores"), `${agentId}.keystore.json`);

function password(): string {
  const p = process.env[PASSWORD_ENV];
  if (!p) throw new CliError(`set ${PASSWORD_ENV} to the password of the agent's keystore`);
  return p;
}

async function secretsOf(o: LocalOptions, agentId: bigint): Promise<AgentSecrets> {
  return asCli(() => readKeystore(keystoreFile(o, agentId), password(), agentId));
}

function storeOf(o: LocalOptions): ContentStore {
  return o.ipfsApi ? new IpfsHttpStore(o.ipfsApi) : new LocalContentStore(o.storeDir);
}

function refOf(ctx: CliContext): RegistryRef {
  const client = createPublicClient({ transport: http(ctx.options.rpc, { timeout: 60_000 }) }) as PublicClient;
  return { client, registry: ctx.deployment.registry, fromBlock: BigInt(ctx.record.fromBlock ?? 0) };
}

/** A BackupError becomes a CliError: exit 2 for what the user must fix, 1 for a refusal of the data itself. */
async function asCli<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof BackupError) {
      const input = ["KEYSTORE_INVALID", "KEYSTORE_PASSWORD", "TARGET_NOT_EMPTY", "FOLDER_INVALID", "NO_BACKUP"];
      throw new CliError(`${err.code}: ${err.shortMessage}`, input.includes(err.code) ? 2 : 1);
    }
    throw err;
  }
}

async function keeperCall(url: string, route: string, body: unknown): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, "")}${route}`, {
      method: body === undefined ? "GET" : "POST",
      ...(body !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new CliError(`cannot reach the backup keeper at ${url}: ${(err as Error).message}`, 1);
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const e = json.error as { code?: string; message?: string } | undefined;
    throw new CliError(`the keeper refused: ${res.status} ${e?.code ?? ""} ${e?.message ?? ""}`.trim(), 1);
  }
  return json;
}

/** Asks the keeper for a backup and waits until it is anchored (or failed). */
async function backupThroughKeeper(url: string, agentId: bigint, timeoutMs = 600_000) {
  const { requestId } = await keeperCall(url, `/agents/${agentId}/wake-end`, {});
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await keeperCall(url, `/requests/${requestId}`, undefined);
    if (r.status === "done") return r;
    if (r.status === "failed") throw new CliError(`the backup failed: ${r.error}`, 1);
    if (Date.now() > deadline) throw new CliError(`backup request ${requestId} is still ${r.status}`, 1);
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** Backs the folder up here: seal, store, and record it on chain from the agent's own key (recordBackup). */
async function backupHere(ctx: CliContext, o: LocalOptions, agentId: bigint) {
  const secrets = await secretsOf(o, agentId);
  const wallet = await loadWallet(ctx, ctx.options.keyEnv, ctx.options.keystore);
  const ref = refOf(ctx);
  const store = storeOf(o);
  const known = [...(await directRecords(ref, agentId)), ...(await anchoredRecords(ref, agentId, store))];
  const sequence = nextSequence(Math.max(0, ...known.map((k) => k.record.sequence)), 0);
  const signer = await fromEthersSigner(wallet);
  const made = await asCli(() =>
    createBackup({
      folder: agentFolder(o.memoryDir, agentId),
      binding: { chainId: ctx.chainId, registry: ctx.deployment.registry },
      store,
      agentId,
      sequence,
      secrets,
      signer,
      // Deadline 0: the record hash of a direct recordBackup call (the signature also makes it a valid batch leaf).
      deadline: 0n,
    }),
  );
  const r = made.record;
  const tx = await ctx.registry
    .connect(wallet)
    .recordBackup(agentId, r.sequence, r.ciphertextHash, toHex(cidToBytes(r.cid)));
  const receipt = await tx.wait();
  return {
    agentId: agentId.toString(),
    sequence: r.sequence,
    cid: r.cid,
    ciphertextHash: r.ciphertextHash,
    bytes: made.envelopeBytes,
    keyVersion: currentKey(secrets).version,
    tx: receipt?.hash,
  };
}

/** `covenant backup`, `covenant restore`, `covenant backup-key`. */
export function registerBackupCommands(program: Command, withContext: WithContext): void {
  withLocalOptions(
    program
      .command("backup")
      .description("back up an agent's memory: encrypted, stored by content address, anchored on chain")
      .option("--watch", "keep watching the folder; back up once it has been quiet for --debounce ms")
      .option("--debounce <ms>", "quiet time before a watched change is backed up", "2000"),
  ).action(
    withContext(async (ctx, o: LocalOptions & { watch?: boolean; debounce: string }) => {
      const agentId = uintArg(o.agent, "--agent");
      const once = async () => {
        const out = o.keeper ? await backupThroughKeeper(o.keeper, agentId) : await backupHere(ctx, o, agentId);
        printJson(out);
      };
      if (!o.watch) return once();
      const folder = agentFolder(o.memoryDir, agentId);
      const debounce = Number(uintArg(o.debounce, "--debounce"));
      await once();
      console.error(`watching ${folder} (debounce ${debounce} ms); Ctrl-C to stop`);
      await new Promise<void>((resolve) => {
        const w = watchFolder(folder, debounce, () =>
          once().catch((err) => console.error(`error: ${(err as Error).message}`)),
        );
        const stop = () => {
          w.close();
          resolve();
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    }),
  );

  withLocalOptions(
    program
      .command("restore")
      .description("bring an agent back from its latest anchored backup (only with its resurrection consent)")
      .requiredOption("--to <dir>", "an empty or absent folder to restore into")
      .option("--sequence <n>", "restore this earlier backup instead of the latest"),
  ).action(
    withContext(async (ctx, o: LocalOptions & { to: string; sequence?: string }) => {
      const agentId = uintArg(o.agent, "--agent");
      const sequence = o.sequence === undefined ? undefined : Number(uintArg(o.sequence, "--sequence"));
      if (o.keeper) {
        printJson(await keeperCall(o.keeper, `/agents/${agentId}/restore`, { to: path.resolve(o.to), sequence }));
        return;
      }
      const secrets = await secretsOf(o, agentId);
      const wallet = await loadWallet(ctx, ctx.options.keyEnv, ctx.options.keystore);
      const ref = refOf(ctx);
      const store = storeOf(o);
      const located = [...(await directRecords(ref, agentId)), ...(await anchoredRecords(ref, agentId, store))];
      const out = await asCli(() =>
        restoreAgent({
          ref,
          binding: { chainId: ctx.chainId, registry: ctx.deployment.registry },
          store,
          agentId,
          secrets,
          target: path.resolve(o.to),
          located,
          ...(sequence !== undefined && { sequence }),
          recordRestoration: async (record) => {
            try {
              const tx = await ctx.registry
                .connect(wallet)
                .recordRestoration(agentId, record.sequence, record.ciphertextHash);
              return (await tx.wait())?.hash as Hex;
            } catch (err) {
              const text = (err as Error).message;
              throw new BackupError(`the registry refused the restoration: ${text.split("\n")[0]}`, {
                code: /NoResurrectionConsent|0x[0-9a-f]{8}/i.test(text) ? "NO_CONSENT" : "RECORD_INVALID",
              });
            }
          },
        }),
      );
      printJson({
        agentId: agentId.toString(),
        sequence: out.record.sequence,
        source: out.source.kind,
        to: path.resolve(o.to),
        files: out.files,
        bytes: out.bytes,
        restorationTx: out.restorationTx,
      });
    }),
  );

  const keys = program.command("backup-key").description("the agent's backup key, in its encrypted keystore");
  keys
    .command("create")
    .description("create the agent's keystore (backup key version 1) and its memory folder")
    .requiredOption("--agent <id>", "the agent")
    .option("--agent-keystore <file>", "keystore file (default <COVENANT_KEYSTORE_DIR>/<id>.keystore.json)")
    .option(
      "--memory-dir <dir>",
      "folder of the agents' memory folders",
      process.env.COVENANT_MEMORY_DIR ?? path.join(HOME, "memory"),
    )
    .option(
      "--with-signer",
      "also keep the agent signer key (from --key-env) in the keystore, for a keeper to sign records",
    )
    .action(async (o: { agent: string; agentKeystore?: string; memoryDir: string; withSigner?: boolean }) => {
      const agentId = uintArg(o.agent, "--agent");
      const keyEnv = program.opts<{ keyEnv: string }>().keyEnv;
      const signerKey = o.withSigner ? (process.env[keyEnv] as Hex | undefined) : undefined;
      if (o.withSigner && !signerKey) throw new CliError(`--with-signer: set ${keyEnv} to the agent signer key`);
      const file = keystoreFile(o, agentId);
      await asCli(() => createKeystore(file, agentId, password(), { ...(signerKey && { signerKey }) }));
      const folder = await createAgentFolder(o.memoryDir, agentId);
      printJson({ agentId: agentId.toString(), keystore: file, keyVersion: 1, memory: folder });
    });
  keys
    .command("rotate")
    .description("add a new backup key version (later backups use it; earlier ones stay readable)")
    .requiredOption("--agent <id>", "the agent")
    .option("--agent-keystore <file>", "keystore file (default <COVENANT_KEYSTORE_DIR>/<id>.keystore.json)")
    .action(async (o: { agent: string; agentKeystore?: string }) => {
      const agentId = uintArg(o.agent, "--agent");
      const file = keystoreFile(o, agentId);
      await asCli(() => readKeystore(file, password(), agentId));
      const rotated = await asCli(() => rotateBackupKey(file, password()));
      printJson({ agentId: agentId.toString(), keystore: file, keyVersion: currentKey(rotated).version });
    });
}
