import { type ChildProcess, spawn } from "node:child_process";
import { cpSync } from "node:fs";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { type Address, createPublicClient, type Hex, http, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { openStore } from "../../keepers/shared";
import { TxExecutorService } from "../../keepers/tx-executor/service";
import { freePort, rpc } from "../helpers/hardhatNode";
import { compileEmitter } from "../helpers/testContract";
import { makeTempDir } from "../helpers/tmp";

/*
 * The tx-executor for tests: in process (fast, for the API and the bad-input matrix), or as a real
 * child process started through ts-node (for kill -9, restarts and several instances), stopped by
 * its PID in an after hook and, as a last resort, at exit.
 */

const REPO = resolve(__dirname, "..", "..");

/** Hardhat dev keys: 1 = relayer, 2 = sentinel (0 deploys). Local chains only. */
export const RELAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
export const SENTINEL_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
export const KEEPER_TOKEN = "earnings-token-0123456789abcdef";
export const OTHER_KEEPER_TOKEN = "backup-token-0123456789abcdef00";

export type ExecutorEnv = Record<string, string | undefined>;

let template: Promise<string> | undefined;

/**
 * A PGlite folder initialised once per test process (initdb takes 3-20 s depending on load) and
 * copied for each executor: an empty database, as a fresh DATA_DIR would be.
 */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = join(makeTempDir("covenant-pglite-template-"), "db");
    const store = await openStore({ dataDir: dir });
    await store.close();
    return dir;
  })();
  return template;
}

/** A fresh, initialised PGlite folder. */
export async function freshDataDir(): Promise<string> {
  const dir = join(makeTempDir("covenant-executor-"), "db");
  cpSync(await pgliteTemplate(), dir, { recursive: true });
  return dir;
}

/**
 * What every test executor gets: a fresh PGlite folder unless DATABASE_URL is given, 1 confirmation,
 * fast loops. Logs: silent in process, info (needed to learn the URL) in a child.
 */
export async function executorEnv(rpcUrl: string, extra: ExecutorEnv = {}): Promise<ExecutorEnv> {
  return {
    RPC_URLS: rpcUrl,
    CHAIN_ID: "31337",
    DATA_DIR: extra.DATABASE_URL ? undefined : await freshDataDir(),
    HTTP_HOST: "127.0.0.1",
    HTTP_PORT: "0",
    CONFIRMATIONS: "1",
    POLL_INTERVAL_MS: "200",
    RPC_TIMEOUT_MS: "2000",
    KEEPER_PRIVATE_KEY: RELAYER_KEY,
    KEEPER_TOKENS: `earnings=${KEEPER_TOKEN},backup=${OTHER_KEEPER_TOKEN}`,
    AGENT_RATE_LIMIT: "100000",
    ...extra,
  };
}

/** An executor in this process. `stop()` is the graceful path (as on SIGTERM). */
export async function startInProcess(
  env: ExecutorEnv,
): Promise<{ service: TxExecutorService; url: string; stop(): Promise<void> }> {
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const level = env.LOG_LEVEL ?? "silent";
  const service = new TxExecutorService({
    env: { ...env, LOG_LEVEL: level },
    logDestination: level === "silent" ? quiet : undefined,
  });
  await service.start();
  return {
    service,
    url: service.url(),
    stop: async () => {
      await service.stop("test done");
    },
  };
}

export type ExecutorProcess = {
  pid: number;
  url: string;
  /** Log lines so far (JSON). */
  logs(): string[];
  /** SIGTERM and wait for the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL: no chance to finish anything. */
  kill9(): Promise<void>;
  exited: Promise<number | null>;
};

const children = new Map<number, ChildProcess>();

/** Starts `keepers/tx-executor/main.ts` as a child process through ts-node and waits for its URL. */
export async function startExecutorProcess(
  env: ExecutorEnv,
  timeoutMs = 90_000,
  nodeArgs: string[] = [],
): Promise<ExecutorProcess> {
  // A port chosen here (not 0) so that readiness does not depend on reading the log.
  const port = env.HTTP_PORT && env.HTTP_PORT !== "0" ? Number(env.HTTP_PORT) : await freePort();
  const child = spawn(
    process.execPath,
    [...nodeArgs, "-r", "ts-node/register", join("keepers", "tx-executor", "main.ts")],
    {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info", ...env, HTTP_PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  if (child.pid === undefined) throw new Error("executor did not start");
  const pid = child.pid;
  children.set(pid, child);
  const lines: string[] = [];
  let buffer = "";
  let resolveUrl!: (url: string) => void;
  const urlReady = new Promise<string>((r) => {
    resolveUrl = r;
  });
  const onData = (b: Buffer) => {
    buffer += b.toString();
    let i = buffer.indexOf("\n");
    while (i >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      lines.push(line);
      if (lines.length > 5_000) lines.shift();
      const m = /"url":"(http:\/\/[^"]+)".*"msg":"service started"/.exec(line);
      if (m) resolveUrl(m[1]!);
      i = buffer.indexOf("\n");
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const probe = setInterval(() => {
    fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => resolveUrl(`http://127.0.0.1:${port}`),
      () => undefined,
    );
  }, 250);
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      children.delete(pid);
      r(code);
    }),
  );
  const timer = new Promise<never>((_, reject) => {
    const t = setTimeout(
      () => reject(new Error(`executor did not start in ${timeoutMs} ms:\n${lines.slice(-20).join("\n")}`)),
      timeoutMs,
    );
    t.unref();
  });
  const early = exited.then((code) => {
    throw new Error(`executor exited early (${code}):\n${lines.slice(-20).join("\n")}`);
  });
  let url: string;
  try {
    url = await Promise.race([urlReady, timer, early]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  } finally {
    clearInterval(probe);
  }
  early.catch(() => undefined);
  return {
    pid,
    url,
    logs: () => [...lines],
    exited,
    stop: async (ms = 20_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), ms);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    kill9: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, "SIGKILL");
      await exited;
    },
  };
}

/** Stops every executor child this process started (SIGKILL: for after hooks). */
export async function killAllExecutors(): Promise<void> {
  await Promise.all(
    [...children.values()].map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once("exit", () => r());
          c.kill("SIGKILL");
        }),
    ),
  );
}

process.once("exit", () => {
  for (const pid of children.keys()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/* ------------------------------------------ client ------------------------------------------ */

export type ApiResponse = { status: number; body: Record<string, unknown>; headers: Headers };

export async function api(
  url: string,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  options: { token?: string; raw?: string; contentType?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (body !== undefined || options.raw !== undefined)
    headers["content-type"] = options.contentType ?? "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(url + path, {
    method,
    headers,
    body: options.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

/** A keeper transaction body for POST /tx/execute. */
export function keeperTx(key: string, to: string, data: string, extra: Record<string, string> = {}) {
  return { kind: "keeper", idempotencyKey: key, to, data, ...extra };
}

/**
 * Polls GET /tx/status/:id until every id is final; returns the records by id. Waits on one id at a
 * time (they finish close together), so polling does not flood the executor.
 */
export async function waitFinal(
  url: string,
  ids: readonly string[],
  timeoutMs = 60_000,
): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const deadline = Date.now() + timeoutMs;
  for (const id of new Set(ids)) {
    for (;;) {
      const r = await api(url, "GET", `/tx/status/${id}`);
      if (["confirmed", "failed", "rejected"].includes(r.body.status as string)) {
        out.set(id, r.body);
        break;
      }
      if (Date.now() > deadline)
        throw new Error(`request ${id} not final after ${timeoutMs} ms: ${JSON.stringify(r.body)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }
  return out;
}

/* ------------------------------------------ chain ------------------------------------------- */

const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** The private key of Hardhat dev account `index` (local chains only); tests give each executor its own relayer. */
export function devKey(index: number): `0x${string}` {
  const key = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).getHdKey().privateKey;
  if (!key) throw new Error("no key");
  return toHex(key);
}

export function devAddress(index: number): Address {
  return mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).address;
}

/** Interval mining (automine off), as on a real chain. */
export async function useIntervalMining(url: string, ms: number): Promise<void> {
  await rpc(url, "evm_setAutomine", [false]);
  await rpc(url, "evm_setIntervalMining", [ms]);
}

/** Ping(id) events of `emitter` from `from`, counted per id. */
export async function pingCounts(url: string, emitter: Address): Promise<Map<bigint, number>> {
  const client = createPublicClient({ transport: http(url) });
  const { abi } = compileEmitter();
  const logs = await client.getContractEvents({ address: emitter, abi, eventName: "Ping", fromBlock: 0n });
  const counts = new Map<bigint, number>();
  for (const log of logs) {
    const id = (log.args as { id: bigint }).id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/**
 * Checks a sender's nonces: the transactions behind `hashes` use distinct nonces, and together with
 * the `before` transactions the sender had, they fill 0 .. count-1 without a gap (the chain's count).
 */
export async function nonceReport(url: string, sender: Address, hashes: readonly Hex[]) {
  const client = createPublicClient({ transport: http(url) });
  const count = await client.getTransactionCount({ address: sender, blockTag: "latest" });
  const nonces: number[] = [];
  for (const hash of hashes) {
    const tx = await client.getTransaction({ hash });
    if (tx.from.toLowerCase() !== sender.toLowerCase()) throw new Error(`${hash} is not from ${sender}`);
    nonces.push(tx.nonce);
  }
  const distinct = new Set(nonces);
  return {
    count,
    nonces,
    duplicates: nonces.length - distinct.size,
    min: Math.min(...nonces),
    max: Math.max(...nonces),
  };
}

/** Runs `fn` over `items` with at most `limit` at once; results in order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
