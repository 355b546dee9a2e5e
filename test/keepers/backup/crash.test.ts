import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { freePort } from "../../helpers/hardhatNode";
import { makeTempDir } from "../../helpers/tmp";
import { chainWithAgents, getJson, keeperEnv, postJson, prepareDisk, RELAYER_ACCOUNT, serveChain } from "./harness";

/*
 * The queue survives a crash: the keeper process is killed with SIGKILL while its records wait in the mempool, and
 * the restarted keeper completes every backup exactly once (one BackupRecorded per agent, no second transaction).
 */

const REPO = path.resolve(__dirname, "..", "..", "..");
const threeAgents = () => chainWithAgents(3);

function startKeeper(env: Record<string, string | undefined>): { child: ChildProcess; output: () => string } {
  // PGlite in the run's temp dir: the process keeps the default name ("backup"), which on a shared PostgreSQL would
  // meet the schema of earlier runs.
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, TS_NODE_TRANSPILE_ONLY: "true" };
  delete childEnv.DATABASE_URL;
  const child = spawn(process.execPath, ["-r", "ts-node/register", path.join(REPO, "keepers", "backup", "main.ts")], {
    cwd: REPO,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  });
  child.stderr?.on("data", (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  });
  return { child, output: () => out };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const exited = (child: ChildProcess) =>
  new Promise<void>((r) =>
    child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", () => r()),
  );

describe("backup keeper: crash and restart", function () {
  this.timeout(300_000);
  const children: ChildProcess[] = [];
  let chain: Awaited<ReturnType<typeof serveChain>>;

  before(async () => {
    chain = await serveChain();
  });
  after(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null && c.pid) {
        process.kill(c.pid, "SIGKILL");
        await exited(c);
      }
    }
    await hre.network.provider.send("evm_setAutomine", [true]);
    await chain.close();
  });

  it("SIGKILL with records in the mempool: after a restart each backup completes once", async () => {
    const f = await loadFixture(threeAgents);
    const root = makeTempDir("covenant-bk-crash-");
    const disk = await prepareDisk(root, f.agents);
    const port = await freePort();
    const env = keeperEnv({
      rpcUrl: chain.url,
      chainId: f.deployment.chainId,
      registry: f.deployment.registry,
      root,
      ...disk,
      extra: { HTTP_PORT: String(port), POLL_INTERVAL_MS: "200", TX_WAIT_MS: "1000", LOG_LEVEL: "warn" },
    });
    const url = `http://127.0.0.1:${port}`;
    const relayer = f.signers[RELAYER_ACCOUNT]!.address;
    const nonceBefore = await hre.ethers.provider.getTransactionCount(relayer, "latest");

    // Nothing gets mined until the test says so.
    await hre.network.provider.send("evm_setAutomine", [false]);
    const first = startKeeper(env);
    children.push(first.child);
    await until("the first keeper's /healthz", async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined));
    const ids: string[] = [];
    for (const a of f.agents)
      ids.push((await postJson(`${url}/agents/${a.agentId}/wake-end`)).body.requestId as string);
    await until("three records in the mempool", async () => {
      const pending = await hre.ethers.provider.getTransactionCount(relayer, "pending");
      return pending - nonceBefore === 3 ? true : undefined;
    });
    const states = await Promise.all(ids.map(async (id) => (await getJson(`${url}/requests/${id}`)).body.status));
    expect(states, "killed mid-queue: sealed and sent, not done").to.deep.equal(["signed", "signed", "signed"]);
    process.kill(first.child.pid!, "SIGKILL");
    await exited(first.child);
    expect(await f.registry.queryFilter(f.registry.filters.BackupRecorded())).to.deep.equal([]);

    // The transactions the dead keeper sent are mined now; the restarted one finds them instead of sending again.
    await hre.network.provider.send("evm_mine", []);
    await hre.network.provider.send("evm_setAutomine", [true]);
    const second = startKeeper(env);
    children.push(second.child);
    await until(
      "every request done after the restart",
      async () => {
        const s = await Promise.all(ids.map(async (id) => (await getJson(`${url}/requests/${id}`)).body.status));
        return s.every((x) => x === "done") ? true : undefined;
      },
      120_000,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${second.output()}`);
    });
    const events = await f.registry.queryFilter(f.registry.filters.BackupRecorded());
    expect(events.map((e) => [e.args.agentId, e.args.sequence]).sort()).to.deep.equal(
      f.agents.map((a) => [a.agentId, 1n]).sort(),
    );
    expect(await hre.ethers.provider.getTransactionCount(relayer, "latest")).to.equal(nonceBefore + 3);
    process.kill(second.child.pid!, "SIGTERM");
    await exited(second.child);
    expect(second.child.exitCode).to.equal(0);
  });
});
