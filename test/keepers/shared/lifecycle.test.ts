import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { expect } from "chai";
import { z } from "zod";
import { keeperConfigSchema } from "../../../keepers/shared/config";
import { ConfigError, CovenantError } from "../../../keepers/shared/errors";
import { BaseService, EXIT_CONFIG } from "../../../keepers/shared/lifecycle";
import { sleep } from "../../../keepers/shared/retry";
import { openStore } from "../../../keepers/shared/store";
import { makeTempDir } from "../../helpers/tmp";
import { captureLogs } from "./fixtures/captureLogs";

const REPO = resolve(__dirname, "..", "..", "..");
const BASE_ENV = { RPC_URLS: "http://127.0.0.1:1", CHAIN_ID: "31337", HTTP_PORT: "0", LOG_LEVEL: "info" };
const schema = keeperConfigSchema({ keeper: "inproc", signer: "none" });

/** An in-process service whose tick runs `behaviour`. */
class TestService extends BaseService<typeof schema> {
  constructor(
    env: Record<string, string>,
    private readonly behaviour: (n: number, signal: AbortSignal) => Promise<void>,
    extra: { stallAfterMs?: number; stopTimeoutMs?: number; logs?: ReturnType<typeof captureLogs> } = {},
  ) {
    super({
      name: "inproc",
      configSchema: schema,
      env: { ...BASE_ENV, ...env },
      stallAfterMs: extra.stallAfterMs,
      stopTimeoutMs: extra.stopTimeoutMs,
      logDestination: (extra.logs ?? captureLogs()).stream,
    });
  }
  private n = 0;
  protected async init(): Promise<void> {}
  protected async tick(signal: AbortSignal): Promise<void> {
    await this.behaviour(++this.n, signal);
  }
  url(): string {
    return this.http.address().url;
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe("keepers/shared lifecycle: BaseService in process", () => {
  it("never overlaps ticks, even when a tick outlasts the interval", async () => {
    let running = 0;
    let maxRunning = 0;
    const spans: [number, number][] = [];
    const svc = new TestService({ POLL_INTERVAL_MS: "50" }, async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const start = Date.now();
      await sleep(80);
      spans.push([start, Date.now()]);
      running--;
    });
    await svc.start();
    await until(() => spans.length >= 4);
    expect(await svc.stop()).to.equal(0);
    expect(maxRunning).to.equal(1);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).to.be.at.least(spans[i - 1]![1]);
  });

  it("a stop during init() waits for it, closes what it opened, and never starts the loop", async () => {
    let closed = false;
    let ticks = 0;
    class SlowInit extends TestService {
      protected override async init(): Promise<void> {
        await sleep(300);
        this.onStop("resource", () => {
          closed = true;
        });
      }
    }
    const svc = new SlowInit({ POLL_INTERVAL_MS: "50" }, async () => {
      ticks++;
    });
    const started = svc.start();
    await sleep(50);
    const stopped = svc.stop("SIGTERM during init");
    await started;
    expect(await stopped).to.equal(0);
    expect(await svc.done).to.equal(0);
    expect(closed, "the resource opened by init() is closed").to.equal(true);
    await sleep(100);
    expect(ticks, "no tick after a stop during init").to.equal(0);
    expect(svc.health().running).to.equal(false);
  });

  it("schedules ticks start-to-start at the interval, never early", async () => {
    const starts: number[] = [];
    const svc = new TestService({ POLL_INTERVAL_MS: "100" }, async () => {
      starts.push(Date.now());
      await sleep(60);
    });
    await svc.start();
    await until(() => starts.length >= 6);
    await svc.stop();
    const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
    for (const gap of gaps) expect(gap).to.be.at.least(95);
    // Start-to-start: about 100 ms; end-to-start would be 160 ms or more.
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    expect(median).to.be.lessThan(150);
  });

  it("retries after retryable errors, counts them, and reports the loop unhealthy while it stalls", async () => {
    let failing = true;
    const svc = new TestService(
      { POLL_INTERVAL_MS: "50" },
      async () => {
        if (failing) throw new CovenantError("rpc down", { code: "RPC_NETWORK", retryable: true });
      },
      { stallAfterMs: 400 },
    );
    await svc.start();
    await until(() => svc.health().consecutiveFailures >= 3);
    expect((await fetch(`${svc.url()}/healthz`)).status).to.equal(200); // not stalled for long yet
    await sleep(450);
    const stalled = await fetch(`${svc.url()}/healthz`);
    expect(stalled.status).to.equal(503);
    const body = (await stalled.json()) as { checks: { loop: { ok: boolean; detail: { lastError: string } } } };
    expect(body.checks.loop.ok).to.equal(false);
    expect(body.checks.loop.detail.lastError).to.equal("rpc down");
    failing = false;
    await until(() => svc.health().consecutiveFailures === 0);
    expect((await fetch(`${svc.url()}/healthz`)).status).to.equal(200);
    const metrics = await (await fetch(`${svc.url()}/metrics`)).text();
    expect(metrics).to.match(/covenant_inproc_ticks_total\{result="retryable_error",keeper="inproc"\} ([3-9]|\d\d+)/);
    expect(metrics).to.match(/covenant_inproc_ticks_total\{result="ok",keeper="inproc"\} [1-9]/);
    expect(await svc.stop()).to.equal(0);
  });

  it("stops with exit code 1 on a fatal tick error and schedules nothing after it", async () => {
    const ticks: number[] = [];
    const logs = captureLogs();
    const svc = new TestService(
      { POLL_INTERVAL_MS: "50" },
      async (n) => {
        ticks.push(n);
        if (n === 3) throw new CovenantError("nonce table corrupt", { code: "BROKEN", retryable: false });
      },
      { logs },
    );
    await svc.start();
    expect(await svc.done).to.equal(1);
    await sleep(50);
    expect(ticks).to.deep.equal([1, 2, 3]);
    const fatal = logs.lines().find((l) => l.msg === "tick failed with a fatal error; stopping");
    expect(fatal).to.include({ level: "fatal", tick: 3 });
    expect(logs.lines().at(-1)).to.include({ msg: "stopped", exitCode: 1 });
  });

  it("finishes the in-flight tick on stop, and aborts it only after stopTimeoutMs", async () => {
    let finished = 0;
    const svc = new TestService({ POLL_INTERVAL_MS: "50" }, async () => {
      await sleep(150);
      finished++;
    });
    await svc.start();
    await sleep(30);
    const t = Date.now();
    expect(await svc.stop()).to.equal(0);
    expect(finished).to.equal(1);
    expect(Date.now() - t).to.be.within(80, 400);

    let aborted = false;
    const logs = captureLogs();
    const slow = new TestService(
      { POLL_INTERVAL_MS: "50" },
      async (_n, signal) => {
        try {
          await sleep(60_000, signal);
        } catch (err) {
          aborted = true;
          throw err;
        }
      },
      { stopTimeoutMs: 100, logs },
    );
    await slow.start();
    await sleep(20);
    const t2 = Date.now();
    expect(await slow.stop()).to.equal(0);
    expect(aborted).to.equal(true);
    expect(Date.now() - t2).to.be.within(90, 1_000);
    expect(logs.lines().map((l) => l.msg)).to.include.members([
      "in-flight tick still running; aborting it",
      "tick aborted by shutdown",
    ]);
  });

  it("fails start() with a ConfigError naming the variable, resolving done with 78", async () => {
    const logs = captureLogs();
    const svc = new TestService({ CHAIN_ID: "", POLL_INTERVAL_MS: "soon" }, async () => {}, { logs });
    const err = (await svc.start().catch((e: unknown) => e)) as ConfigError;
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.issues).to.deep.equal([
      { variable: "CHAIN_ID", message: "required" },
      { variable: "POLL_INTERVAL_MS", message: "expected an integer from 50 to 86400000" },
    ]);
    expect(await svc.done).to.equal(EXIT_CONFIG);
    expect(logs.lines()[0]).to.include({ level: "fatal" });
  });

  it("accepts a keeper schema with extra variables", () => {
    const own = keeperConfigSchema({ keeper: "x" }, { EXTRA: z.string() });
    class Own extends BaseService<typeof own> {
      protected async init() {}
      protected async tick() {}
    }
    expect(new Own({ name: "x", configSchema: own }).name).to.equal("x");
  });
});

type Line = { msg: string; n?: number; exitCode?: number; url?: string; time: string };

/** Spawns the tick service as one process (node + ts-node), collecting its JSON log lines. */
function spawnService(env: Record<string, string>): {
  child: ChildProcess;
  lines: Line[];
  exited: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", join(__dirname, "fixtures", "tickService.ts")],
    { cwd: REPO, env: { PATH: process.env.PATH ?? "", ...BASE_ENV, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines: Line[] = [];
  let buffer = "";
  child.stdout?.on("data", (b: Buffer) => {
    buffer += b.toString();
    let i = buffer.indexOf("\n");
    while (i >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim()) lines.push(JSON.parse(line) as Line);
      i = buffer.indexOf("\n");
    }
  });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((r) =>
    child.once("exit", (code) => {
      if (stderr) process.stderr.write(stderr);
      r(code);
    }),
  );
  children.add(child);
  void exited.then(() => children.delete(child));
  return { child, lines, exited };
}

const children = new Set<ChildProcess>();

describe("keepers/shared lifecycle: runService in a child process", function () {
  // The child compiles with ts-node and opens PGlite: ~8 s on an idle 2-core machine, far more under load.
  this.timeout(120_000);

  // Whatever happens in a test, no child outlives it: stopped by PID.
  afterEach(async () => {
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("exits 0 on SIGTERM after finishing the in-flight tick, closing HTTP and the store", async () => {
    const dataDir = makeTempDir("covenant-svc-");
    const svc = spawnService({ DATA_DIR: dataDir, TICK_MS: "800", POLL_INTERVAL_MS: "50" });
    await until(() => svc.lines.some((l) => l.msg === "tick started" && l.n === 2), 100_000);
    const url = svc.lines.find((l) => l.msg === "service started")!.url!;
    const health = await fetch(`${url}/healthz`);
    expect(health.status).to.equal(200);
    const checks = ((await health.json()) as { checks: Record<string, { ok: boolean; detail?: unknown }> }).checks;
    expect(Object.keys(checks).sort()).to.deep.equal(["loop", "store"]);
    expect(checks.store).to.deep.include({ ok: true, detail: "pglite" });
    expect(await (await fetch(`${url}/metrics`)).text()).to.include(
      'covenant_tick_test_ticks_total{result="ok",keeper="tick-test"} 1',
    );

    const signalledAt = svc.lines.length;
    expect(svc.child.kill("SIGTERM")).to.equal(true);
    expect(await svc.exited).to.equal(0);
    const after = svc.lines.slice(signalledAt).map((l) => l.msg + (l.n ? ` ${l.n}` : ""));
    expect(after).to.deep.equal(["stopping", "tick finished 2", "stopped"]);
    expect(svc.lines.at(-1)).to.include({ exitCode: 0 });
    const refused = await fetch(`${url}/healthz`).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(Error);

    // The store was closed cleanly and holds exactly the finished ticks.
    const store = await openStore({ dataDir });
    try {
      const { rows } = await store.query<{ n: number }>('SELECT n FROM "tick_test".ticks ORDER BY n');
      expect(rows.map((r) => r.n)).to.deep.equal([1, 2]);
    } finally {
      await store.close();
    }
  });

  it("exits 1 after a fatal tick error, and 78 on a configuration error", async () => {
    const fatal = spawnService({ NO_STORE: "1", FAIL_AT_TICK: "2", FAIL_KIND: "fatal", POLL_INTERVAL_MS: "50" });
    expect(await fatal.exited).to.equal(1);
    expect(fatal.lines.filter((l) => l.msg === "tick started").map((l) => l.n)).to.deep.equal([1, 2]);
    expect(fatal.lines.some((l) => l.msg === "tick failed with a fatal error; stopping")).to.equal(true);

    const config = spawnService({ NO_STORE: "1", CHAIN_ID: "", RPC_URLS: "localhost:8545" });
    expect(await config.exited).to.equal(78);
    expect(config.lines[0]!.msg).to.equal(
      "Invalid configuration:\n  CHAIN_ID: required\n  RPC_URLS: expected comma-separated http(s) URLs (entry 1 is not one)",
    );
  });
});
