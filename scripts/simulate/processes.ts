import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "../../test/helpers/hardhatNode";

/*
 * The keepers as real processes: each one `node -r ts-node/register keepers/<name>/main.ts`, one PID, started with
 * its own environment, its log lines written to <logDir>/<name>.log, stopped by its PID (SIGTERM, then SIGKILL on
 * timeout) or killed with SIGKILL (the crash class). Every process still running when this one exits is killed by
 * PID from an exit hook, so no keeper outlives the simulation.
 */

const REPO = resolve(__dirname, "..", "..");

export type KeeperName = "tx-executor" | "earnings" | "spending" | "governance" | "backup";

export type KeeperProcess = {
  name: KeeperName;
  pid: number;
  url: string;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code (null when killed). */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL: nothing is finished, nothing flushed. */
  kill9(): Promise<void>;
  exited: Promise<number | null>;
  /** The last log lines (JSON), for error messages. */
  tail(n?: number): string[];
};

const running = new Map<number, ChildProcess>();

process.once("exit", () => {
  for (const pid of running.keys()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

export async function startKeeper(
  name: KeeperName,
  env: Record<string, string | undefined>,
  logDir: string,
  timeoutMs = 120_000,
  /** The port to listen on (a restart reuses its predecessor's, so clients keep their URL); default a free one. */
  fixedPort?: number,
): Promise<KeeperProcess> {
  const port = fixedPort ?? (await freePort());
  const log: WriteStream = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", join("keepers", name, "main.ts")], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: "info",
      ...env,
      HTTP_HOST: "127.0.0.1",
      HTTP_PORT: String(port),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const pid = child.pid;
  running.set(pid, child);
  const lines: string[] = [];
  const collect = (b: Buffer) => {
    log.write(b);
    for (const line of b.toString().split("\n")) {
      if (line === "") continue;
      lines.push(line);
      if (lines.length > 200) lines.shift();
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      running.delete(pid);
      log.end();
      r(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const proc: KeeperProcess = {
    name,
    pid,
    url,
    exited,
    tail: (n = 20) => lines.slice(-n),
    stop: async (ms = 30_000) => {
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
  // Ready when /healthz answers at all (a keeper that cannot reach the chain still answers 503).
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited early (${child.exitCode}):\n${lines.slice(-20).join("\n")}`);
    }
    try {
      await fetch(`${url}/healthz`);
      return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop(5_000);
      throw new Error(`${name} did not answer /healthz within ${timeoutMs} ms:\n${lines.slice(-20).join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stops every keeper this process started (SIGTERM, then SIGKILL). */
export async function stopAllKeepers(timeoutMs = 30_000): Promise<void> {
  await Promise.all(
    [...running.entries()].map(async ([pid, child]) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const t = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }, timeoutMs);
      await exited;
      clearTimeout(t);
    }),
  );
}
