import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { makeTempDir } from "./tmp";

/*
 * A real `hardhat node` in a child process, for tests that must speak JSON-RPC like a keeper does.
 * It is started as ONE process (node + Hardhat's bootstrap, not npx, which forks three) so that it
 * can be stopped by its PID. Every started node is stopped by `stop()`, by `stopAllNodes()` (call it
 * from a mocha `after` hook, see `useHardhatNode`) and, as a last resort, at process exit.
 *
 * The node runs with a minimal config of its own (--config in a temp dir), not the project's
 * hardhat.config.ts: it starts faster, does not depend on the contracts or plugins other engineers
 * are changing, and lets a test pick the chain id.
 */

export type HardhatNode = {
  url: string;
  port: number;
  pid: number;
  chainId: number;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves when the process has exited. Safe to call twice. */
  stop(timeoutMs?: number): Promise<void>;
};

export type HardhatNodeOptions = { chainId?: number; startTimeoutMs?: number };

const REPO = resolve(__dirname, "..", "..");
const BOOTSTRAP = join(REPO, "node_modules", "hardhat", "internal", "cli", "bootstrap.js");
const running = new Map<number, HardhatNode>();

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export async function startHardhatNode(options: HardhatNodeOptions = {}): Promise<HardhatNode> {
  const chainId = options.chainId ?? 31337;
  const dir = makeTempDir("covenant-hh-");
  const config = join(dir, "hardhat.config.js");
  writeFileSync(
    config,
    `module.exports = { networks: { hardhat: { chainId: ${chainId}, hardfork: "prague", ` +
      `loggingEnabled: false } }, paths: { root: ${JSON.stringify(dir)} } };\n`,
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [BOOTSTRAP, "--config", config, "node", "--hostname", "127.0.0.1", "--port", String(port)],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" } },
  );
  if (child.pid === undefined) throw new Error("hardhat node did not start");
  let output = "";
  const collect = (b: Buffer) => {
    output = (output + b.toString()).slice(-4_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = `http://127.0.0.1:${port}`;
  const node: HardhatNode = {
    url,
    port,
    pid: child.pid,
    chainId,
    stop: makeStop(child, exited),
  };
  running.set(child.pid, node);
  exited.then(() => running.delete(node.pid));

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited early (${child.exitCode}):\n${output}`);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      const body = (await res.json()) as { result?: string };
      if (body.result && Number(BigInt(body.result)) === chainId) return node;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await node.stop();
      throw new Error(`hardhat node did not answer eth_chainId within the timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function makeStop(child: ChildProcess, exited: Promise<void>): (timeoutMs?: number) => Promise<void> {
  let stopping: Promise<void> | undefined;
  return (timeoutMs = 5_000) => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
}

/** Stops every node this process started. */
export async function stopAllNodes(): Promise<void> {
  await Promise.all([...running.values()].map((n) => n.stop()));
}

// Last resort when mocha is killed or a hook never ran: 'exit' handlers must be synchronous, so
// SIGKILL (which cannot be refused) by PID.
process.once("exit", () => {
  for (const pid of running.keys()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/**
 * Starts one node for the enclosing mocha `describe` and stops it after, even if tests fail.
 * Returns a getter because the node exists only once the `before` hook has run.
 */
export function useHardhatNode(options: HardhatNodeOptions = {}): () => HardhatNode {
  let node: HardhatNode | undefined;
  before(async function () {
    this.timeout(40_000);
    node = await startHardhatNode(options);
  });
  after(async () => {
    await node?.stop();
  });
  return () => {
    if (!node) throw new Error("the hardhat node is not running (before hook failed?)");
    return node;
  };
}

/** Sends a raw JSON-RPC request (evm_snapshot, evm_mine, …). */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}
