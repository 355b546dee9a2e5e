import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

/*
 * Child processes for the deployment rehearsal: commands run to completion (npm run deploy, check:deployment) and
 * keepers that run until stopped. Each is stopped by its own PID (a command by its process group, since npm starts
 * a shell and the hardhat process under it); `stopAll()` in an `after` hook stops whatever is left, even on failure.
 */

export const REPO = path.resolve(__dirname, "..", "..");

const started = new Map<number, ChildProcess>();

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args…` to completion in its own process group; on timeout the group is killed and this rejects. */
export function runCommand(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO,
      env: { ...process.env, ...env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true", FORCE_COLOR: "0", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    if (child.pid === undefined) {
      reject(new Error(`${command} did not start`));
      return;
    }
    const pid = child.pid;
    started.set(pid, child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => {
      killGroup(pid);
      reject(new Error(`${command} ${args.join(" ")} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      started.delete(pid);
      resolve({ code, stdout, stderr });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

type LogLine = Record<string, unknown> & { msg?: string };

/** A keeper (`keepers/<name>/main.ts`) as one node process, its JSON log lines kept for assertions. */
export class KeeperProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private stderr = "";

  constructor(
    readonly name: string,
    readonly url: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join("keepers", name, "main.ts")],
      {
        cwd: REPO,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TS_NODE_PROJECT: "tsconfig.json", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    if (this.child.pid === undefined) throw new Error(`keeper ${name} did not start`);
    started.set(this.child.pid, this.child);
    const pid = this.child.pid;
    this.exited = new Promise((r) =>
      this.child.once("exit", (code) => {
        started.delete(pid);
        r(code);
      }),
    );
    let buffer = "";
    this.child.stdout?.on("data", (b: Buffer) => {
      buffer += b.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // a partial line from a crash; the stderr tail tells the story
        }
      }
    });
    this.child.stderr?.on("data", (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4_000);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The last log lines and stderr, for a failure message. */
  tail(): string {
    return `${this.name} (pid ${this.pid}):\n${this.lines
      .slice(-15)
      .map((l) => JSON.stringify(l))
      .join("\n")}\n${this.stderr}`;
  }

  /** Resolves with the first log line matching `test` (past or future); rejects on exit or timeout. */
  async waitForLog(test: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(test);
      if (found) return found;
      if (this.child.exitCode !== null)
        throw new Error(`${what}: the keeper exited (${this.child.exitCode})\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** GET /healthz once it answers: the status and the body. */
  async healthz(timeoutMs = 60_000): Promise<{ status: number; body: unknown }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null)
        throw new Error(`healthz: the keeper exited (${this.child.exitCode})\n${this.tail()}`);
      try {
        const res = await fetch(`${this.url}/healthz`);
        return { status: res.status, body: await res.json() };
      } catch {
        if (Date.now() > deadline) throw new Error(`healthz: no answer within ${timeoutMs} ms\n${this.tail()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** SIGTERM by PID; SIGKILL after `timeoutMs`. Resolves with the exit code (null when it had to be killed). */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    process.kill(this.pid, "SIGTERM");
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }, timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** SIGKILL every process this module started and that is still running (commands by process group). */
export function stopAll(): void {
  for (const [pid, child] of started) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      if (child.spawnargs[0] === process.execPath) process.kill(pid, "SIGKILL");
      else process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  started.clear();
}
