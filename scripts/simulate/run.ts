import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Contract, JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { Client as PgClient } from "pg";
import type { Address, Hex } from "viem";
import { keccak256, toHex } from "viem";
import { openStore } from "../../keepers/shared";
import { ETH, loadAbi, type SignedAction } from "../../sdk";
import { freePort, type HardhatNode, rpc, startHardhatNode } from "../../test/helpers/hardhatNode";
import { startTcpProxy, type TcpProxy } from "../../test/helpers/tcpProxy";
import { type Agent, createAgents, drawRoles } from "./agents";
import { type BackupAvailability, loadBackupRound } from "./backup";
import { ACCOUNTS, deploySuite, devAddress, devKey, type Suite } from "./deploy";
import { type EvolutionOutcome, judgeBadEvolution, proposeBadEvolution } from "./evolution";
import { type Ledger, newLedger, type SpendEntry } from "./ledger";
import { type KeeperName, type KeeperProcess, startKeeper, stopAllKeepers } from "./processes";
import { reconcile, type SimulationReport } from "./reconcile";
import { Rng } from "./rng";
import { planAgentSpends, type SpendContext, send, settle } from "./spends";

/*
 * One simulation: a hardhat node (one PID), the suite through Ignition, the swarm, the keepers as processes, rounds
 * of payments and spends with the seed's failures injected, then every book reconciled (reconcile.ts).
 */

export const FAILURE_CLASSES = ["bankruptcy", "byzantine", "clone", "evolution", "partition", "crash"] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export type SimulationOptions = {
  agents: number;
  rounds: number;
  seed: number;
  out: string;
  databaseUrl?: string | undefined;
  failures: ReadonlySet<FailureClass>;
  /** How long the partition lasts (wall clock). */
  partitionMs: number;
  /** The command line, for the report. */
  command: string;
};

const EPOCH_LENGTH = 3_600;
const CHALLENGE_WINDOW = 60;
const ANOMALY_TOKEN = "simulate-anomaly-token-0123456789";
const REPO = resolve(__dirname, "..", "..");

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

type Keepers = Partial<Record<KeeperName, KeeperProcess>>;

class Simulation {
  readonly ledger: Ledger = newLedger();
  readonly rng: Rng;
  readonly runDir: string;
  node!: HardhatNode;
  suite!: Suite;
  agents: Agent[] = [];
  chainProxy!: TcpProxy;
  pgProxy?: TcpProxy;
  databaseUrl?: string;
  dbName?: string;
  keepers: Keepers = {};
  env: Partial<Record<KeeperName, Record<string, string | undefined>>> = {};
  ports: Partial<Record<KeeperName, number>> = {};
  provider!: JsonRpcProvider;
  backup: BackupAvailability = { reason: "not loaded" };
  startedAt = Date.now();
  roundSeconds = 0;
  evolution?: EvolutionOutcome;

  constructor(readonly o: SimulationOptions) {
    this.rng = new Rng(o.seed);
    this.runDir = resolve(REPO, ".data", "simulate", `run-${o.seed}-${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(join(this.runDir, "logs"), { recursive: true });
  }

  async run(): Promise<SimulationReport> {
    try {
      await this.setUp();
      const work = Date.now();
      for (let r = 0; r < this.o.rounds; r++) await this.round(r);
      await this.drain();
      this.roundSeconds = (Date.now() - work) / 1000;
      log("stopping the keepers (SIGTERM)");
      await this.stopKeepers();
      return await reconcile({
        ...this,
        o: this.o,
        command: this.o.command,
        unplannedExits: this.unplannedExits,
        evolution: this.evolution,
      });
    } finally {
      await this.tearDown();
    }
  }

  private async setUp() {
    log(`run directory ${this.runDir}`);
    this.node = await startHardhatNode();
    log(`hardhat node ${this.node.url} (pid ${this.node.pid})`);
    this.provider = new JsonRpcProvider(this.node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    this.suite = await deploySuite(this.node.url, { epochLength: EPOCH_LENGTH, challengeWindow: CHALLENGE_WINDOW });
    log(`suite deployed through Ignition: registry ${this.suite.registry}, router ${this.suite.router}`);
    const roles = drawRoles(this.o.agents, this.rng.fork("roles")).map((r) =>
      (r === "bankrupt" && !this.o.failures.has("bankruptcy")) ||
      (r === "byzantine" && !this.o.failures.has("byzantine")) ||
      (r === "clone" && !this.o.failures.has("clone"))
        ? "honest"
        : r,
    );
    log(`creating ${this.o.agents} agents (keys, charters, Safes, limits, funds, memory folders)`);
    this.agents = await createAgents(
      this.node.url,
      this.suite,
      roles,
      this.o.seed,
      this.rng.fork("memory"),
      join(this.runDir, "memory"),
      log,
    );

    if (this.o.databaseUrl) {
      this.dbName = `covenant_sim_${process.pid}_${Date.now().toString(36)}`;
      const admin = new PgClient({ connectionString: this.o.databaseUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${this.dbName}"`);
      await admin.end();
      const target = new URL(this.o.databaseUrl);
      this.pgProxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      const direct = new URL(this.o.databaseUrl);
      direct.pathname = `/${this.dbName}`;
      this.databaseUrl = direct.toString();
    }
    this.chainProxy = await startTcpProxy("127.0.0.1", this.node.port);
    this.backup = await loadBackupRound({
      rpcUrl: this.node.url,
      suite: this.suite,
      agents: this.agents,
      runDir: this.runDir,
      keeperUrl: () => this.keepers.backup!.url,
      log,
    });
    const names: KeeperName[] = ["spending", "tx-executor", "earnings", "governance"];
    if (this.backup.keeperEnv) names.push("backup");
    if (!this.databaseUrl) {
      // One PGlite initdb here, copied for each keeper: four at once on a small machine take far longer.
      const template = join(this.runDir, "data", "template");
      await (await openStore({ dataDir: template })).close();
      for (const name of names) {
        cpSync(template, join(this.runDir, "data", name), { recursive: true });
      }
    }

    const common = (name: KeeperName): Record<string, string | undefined> => {
      let databaseUrl: string | undefined;
      if (this.databaseUrl && this.pgProxy) {
        const u = new URL(this.databaseUrl);
        u.hostname = "127.0.0.1";
        u.port = String(this.pgProxy.port);
        databaseUrl = u.toString();
      }
      return {
        RPC_URLS: this.chainProxy.url(),
        CHAIN_ID: String(this.suite.chainId),
        CONFIRMATIONS: "1",
        POLL_INTERVAL_MS: "1000",
        RPC_TIMEOUT_MS: "3000",
        LOG_LEVEL: "info",
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: join(this.runDir, "data", name) }),
      };
    };
    const start = this.suite.startBlock.toString();
    this.env.spending = {
      ...common("spending"),
      KEEPER_PRIVATE_KEY: devKey(ACCOUNTS.sentinel),
      SPENDING_MODULE_ADDRESS: this.suite.spendingModule,
      START_BLOCK: start,
      ANOMALY_TOKEN,
    };
    this.env.earnings = {
      ...common("earnings"),
      KEEPER_PRIVATE_KEY: devKey(ACCOUNTS.poster),
      ROUTER_ADDRESS: this.suite.router,
      DISTRIBUTOR_ADDRESS: this.suite.distributor,
      START_BLOCK: start,
      TX_WAIT_MS: "30000",
    };
    const record = join(this.runDir, "deployment.json");
    writeFileSync(
      record,
      JSON.stringify({
        chainId: this.suite.chainId,
        contracts: Object.fromEntries(Object.entries(this.suite.contracts).map(([k, a]) => [k, { address: a }])),
      }),
    );
    this.env.governance = {
      ...common("governance"),
      DEPLOYMENT_FILE: record,
      KEEPER_PRIVATE_KEY: devKey(ACCOUNTS.simulator),
      GOVERNOR_ADDRESS: this.suite.governor,
      START_BLOCK: start,
      TX_WAIT_MS: "30000",
    };
    if (this.backup.keeperEnv) this.env.backup = { ...common("backup"), ...this.backup.keeperEnv };
    log(`starting the keepers as processes: ${names.join(", ")}`);
    // Ports chosen first, so that they start side by side (the executor needs the spending keeper's URL).
    for (const name of names) this.ports[name] = await freePort();
    this.env["tx-executor"] = {
      ...common("tx-executor"),
      KEEPER_PRIVATE_KEY: devKey(ACCOUNTS.executorRelayer),
      SPENDING_MODULE: this.suite.spendingModule,
      AGENT_REGISTRY: this.suite.registry,
      ANOMALY_URL: `http://127.0.0.1:${this.ports.spending}`,
      ANOMALY_TOKEN,
      POLL_INTERVAL_MS: "250",
      AGENT_RATE_LIMIT: "100000",
      MAX_IN_FLIGHT: "1000",
      BROADCAST_CONCURRENCY: "8",
      REBROADCAST_AFTER_MS: "5000",
      RETRY_BROADCAST_MS: "1000",
    };
    await Promise.all(names.map((n) => this.startKeeper(n)));
    for (const k of Object.values(this.keepers)) log(`  ${k.name} pid ${k.pid} at ${k.url}`);
    // Blocks keep coming while nothing is sent, as on a real chain (automine stays on for the set-up's speed).
    await rpc(this.node.url, "evm_setIntervalMining", [1_000]);
  }

  /** Keepers stopped on purpose (a planned kill -9, the final SIGTERM): their exit is no failure. */
  private readonly expectedExits = new Set<number>();
  /** Unplanned exits of a keeper, each restarted (as a process supervisor would) at most 3 times per keeper. */
  readonly unplannedExits: { keeper: KeeperName; code: number | null; lastLog: string }[] = [];
  stopping = false;

  async startKeeper(name: KeeperName): Promise<KeeperProcess> {
    const k = await startKeeper(name, this.env[name]!, join(this.runDir, "logs"), 180_000, this.ports[name]);
    this.keepers[name] = k;
    void k.exited.then(async (code) => {
      if (this.expectedExits.has(k.pid) || this.stopping) return;
      const lastLog = k.tail(5).find((l) => l.includes('"level":"fatal"')) ?? k.tail(1)[0] ?? "";
      this.unplannedExits.push({ keeper: name, code, lastLog: lastLog.slice(0, 600) });
      log(`  ${name} (pid ${k.pid}) exited on its own with code ${code}`);
      if (this.unplannedExits.filter((e) => e.keeper === name).length <= 3) {
        const again = await this.startKeeper(name);
        log(`  ${name} restarted (pid ${again.pid})`);
      }
    });
    return k;
  }

  private spendContext(deadline: bigint): SpendContext {
    return {
      seed: this.o.seed,
      deployment: {
        chainId: this.suite.chainId,
        registry: this.suite.registry,
        spendingLimits: this.suite.spendingModule,
      },
      executorUrl: () => this.keepers["tx-executor"]!.url,
      deadline,
      retryMs: this.o.partitionMs + 120_000,
    };
  }

  private async chainTime(): Promise<bigint> {
    return BigInt((await this.provider.getBlock("latest"))!.timestamp);
  }

  private async round(r: number) {
    const rng = this.rng.fork(`round-${r}`);
    const t0 = Date.now();
    const events: string[] = [];
    const epoch = ((await this.chainTime()) - this.suite.genesis) / this.suite.epochLength;
    log(`round ${r + 1}/${this.o.rounds} (epoch ${epoch})`);

    // Work: users pay agents.
    await this.payments(r, epoch, rng.fork("payments"));

    // Governance: a malicious change proposal, in the first round, judged by the governance keeper meanwhile.
    const bad =
      r === 0 && this.o.failures.has("evolution") ? await proposeBadEvolution(this.provider, this.suite) : undefined;
    if (bad) events.push(`bad evolution ${bad.evolutionId} proposed and staged`);

    // Work: agents spend; failures strike while the requests are in flight.
    const ctx = this.spendContext((await this.chainTime()) + 30n * 86_400n);
    const sentBefore = this.sent;
    const planned: { entry: SpendEntry; signed: SignedAction<"Spend"> }[] = [];
    const spendRng = rng.fork("spends");
    for (const agent of this.agents) {
      planned.push(
        ...(await planAgentSpends(ctx, agent, this.agents, r, spendRng.fork(`a${agent.index}`), sentBefore)),
      );
    }
    // Each agent's host sends its requests one after another, each once the executor calls the previous one final
    // (so that what one agent's requests meet does not depend on timing); agents and hosts run side by side.
    const lanes = new Map<string, { entry: SpendEntry; signed: SignedAction<"Spend"> }[]>();
    for (const p of planned) {
      const lane = `${p.entry.agentIndex}:${p.entry.host}`;
      lanes.set(lane, [...(lanes.get(lane) ?? []), p]);
    }
    const order = rng.fork("order").shuffle([...lanes.values()]);
    const crashAt = this.o.failures.has("crash") && r === this.crashRound() ? Math.floor(planned.length / 2) : -1;
    const partitionAt =
      this.o.failures.has("partition") && r === this.partitionRound() ? Math.floor(planned.length / 3) : -1;
    const faults: Promise<void>[] = [];
    let phase: "crash" | "partition" | undefined;
    let started = 0;
    await pool(order, 16, async (lane) => {
      for (const p of lane) {
        const i = started++;
        if (i === crashAt) faults.push(this.crash(r, events, (v) => (phase = v)));
        if (i === partitionAt) faults.push(this.partition(r, events, (v) => (phase = v)));
        if (phase) p.entry.during = phase;
        this.ledger.spends.push(p.entry);
        this.sent.push(p);
        await send(ctx, p.entry, p.signed);
        if ((await settle(ctx, [p.entry], 240_000)) > 0) events.push(`request ${p.entry.requestId} open after 240 s`);
      }
    });
    await Promise.all(faults);

    if (bad) {
      this.evolution = await judgeBadEvolution(this.provider, this.suite, bad, 180_000);
      events.push(
        `bad evolution: attestation ${this.evolution.attestation}, direct deploy refused ${this.evolution.deployRefused}`,
      );
    }

    // Work: backups of every agent's memory folder, when the backup keeper is part of this build.
    if (this.backup.round) events.push(await this.backup.round.round(r, this.agents, rng.fork("backups")));

    // The previous epoch's root is posted by now: end its challenge window, let the keeper claim.
    await rpc(this.node.url, "evm_increaseTime", [CHALLENGE_WINDOW + 1]);
    await rpc(this.node.url, "evm_mine", []);
    if (epoch > 0n) await this.waitClaimed(epoch - 1n, 60_000);

    // Close the epoch.
    const next = this.suite.genesis + (epoch + 1n) * this.suite.epochLength;
    const now = await this.chainTime();
    await rpc(this.node.url, "evm_increaseTime", [Number(next - now + 1n)]);
    await rpc(this.node.url, "evm_mine", []);
    const seconds = (Date.now() - t0) / 1000;
    this.ledger.rounds.push({ round: r, epoch, seconds, events });
    const accepted = planned.filter((p) => p.entry.finalStatus === "confirmed").length;
    log(`  ${planned.length} spend requests, ${accepted} confirmed, in ${seconds.toFixed(1)} s ${events.join("; ")}`);
  }

  private sent: { entry: SpendEntry; signed: SignedAction<"Spend"> }[] = [];

  crashRound(): number {
    return Math.min(this.o.rounds - 1, this.o.rounds > 2 ? 1 : 0);
  }

  partitionRound(): number {
    return this.o.rounds - 1;
  }

  private async crash(r: number, events: string[], setPhase: (p: "crash" | undefined) => void) {
    const ex = this.keepers["tx-executor"]!;
    setPhase("crash");
    this.expectedExits.add(ex.pid);
    await ex.kill9();
    this.ledger.faults.push({ round: r, kind: "crash", detail: `kill -9 of the tx-executor (pid ${ex.pid})` });
    const restarted = await this.startKeeper("tx-executor");
    events.push(`tx-executor killed (pid ${ex.pid}) and restarted (pid ${restarted.pid}) on the same store`);
    setPhase(undefined);
  }

  private async partition(r: number, events: string[], setPhase: (p: "partition" | undefined) => void) {
    setPhase("partition");
    this.chainProxy.drop();
    this.pgProxy?.drop();
    const what = this.pgProxy ? "chain and database" : "chain";
    this.ledger.faults.push({
      round: r,
      kind: "partition",
      detail: `keepers cut off from the ${what} for ${this.o.partitionMs} ms`,
    });
    await new Promise((res) => setTimeout(res, this.o.partitionMs));
    this.chainProxy.resume();
    this.pgProxy?.resume();
    events.push(`keepers cut off from the ${what} for ${(this.o.partitionMs / 1000).toFixed(0)} s, then healed`);
    setPhase(undefined);
  }

  private async payments(r: number, epoch: bigint, rng: Rng) {
    const users = ACCOUNTS.users.map((i) => new NonceManager(new Wallet(devKey(i), this.provider)));
    const router = new Contract(this.suite.router, loadAbi("RevenueRouter") as never, this.provider);
    const planned: { user: number; agent: Agent; gross: bigint; ref: Hex }[] = [];
    for (const agent of this.agents) {
      const n = rng.int(0, 2);
      for (let i = 0; i < n; i++) {
        planned.push({
          user: rng.int(0, users.length - 1),
          agent,
          gross: rng.bigint(10n ** 15n, 10n ** 17n),
          ref: keccak256(toHex(`covenant-simulate:${this.o.seed}:pay:${r}:${agent.index}:${i}`)),
        });
      }
    }
    await pool([...users.keys()], users.length, async (u) => {
      for (const p of planned.filter((x) => x.user === u)) {
        const tx = await (
          router.connect(users[u]!) as unknown as Record<
            string,
            (...a: unknown[]) => Promise<{ hash: string; wait(): Promise<unknown> }>
          >
        ).pay!(p.agent.agentId, ETH, p.gross, p.ref, { value: p.gross });
        this.ledger.payments.push({
          round: r,
          epoch,
          agentIndex: p.agent.index,
          agentId: p.agent.agentId,
          user: devAddress(ACCOUNTS.users[u]!),
          gross: p.gross,
          ref: p.ref,
          hash: tx.hash as Hex,
        });
        await tx.wait();
      }
    });
  }

  /** Waits until the earnings keeper has claimed `epoch` (its store says so, read over the keeper's proofs API is not needed: the chain's Claimed count). */
  private async waitClaimed(epoch: bigint, timeoutMs: number) {
    const paid = new Set(this.ledger.payments.filter((p) => p.epoch === epoch).map((p) => p.agentId));
    if (paid.size === 0) return;
    const distributor = new Contract(this.suite.distributor, loadAbi("EarningsDistributor") as never, this.provider);
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const logs = await distributor.queryFilter(distributor.filters.Claimed!(epoch, ETH));
      if (logs.length >= paid.size) return;
      await new Promise((res) => setTimeout(res, 1_000));
    }
  }

  /** After the last round: the last epoch's root and claims, within one epoch. */
  private async drain() {
    const last = this.ledger.rounds.at(-1)?.epoch;
    if (last === undefined) return;
    log(`drain: the last epoch (${last}) is posted and claimed`);
    // Give the keeper the time to see the closed epoch and post its root.
    const distributor = new Contract(this.suite.distributor, loadAbi("EarningsDistributor") as never, this.provider);
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      if ((await distributor.queryFilter(distributor.filters.RootPosted!(last, ETH))).length > 0) break;
      await new Promise((res) => setTimeout(res, 1_000));
    }
    await rpc(this.node.url, "evm_increaseTime", [CHALLENGE_WINDOW + 1]);
    await rpc(this.node.url, "evm_mine", []);
    await this.waitClaimed(last, 90_000);
  }

  async stopKeepers() {
    this.stopping = true;
    for (const k of Object.values(this.keepers)) {
      const code = await k.stop(30_000);
      if (code !== 0) this.ledger.faults.push({ round: -1, kind: "stop", detail: `${k.name} exited ${code}` });
    }
  }

  async tearDown() {
    this.stopping = true;
    await stopAllKeepers();
    await this.chainProxy?.close();
    await this.pgProxy?.close();
    this.provider?.destroy();
    await this.node?.stop();
    if (this.dbName && this.o.databaseUrl) {
      const admin = new PgClient({ connectionString: this.o.databaseUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
      await admin.end();
    }
  }
}

export type { Simulation };

export async function simulate(o: SimulationOptions): Promise<SimulationReport> {
  return new Simulation(o).run();
}

export const addressOf = (a: Agent): Address => a.address;
