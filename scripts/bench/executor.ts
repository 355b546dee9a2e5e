/**
 * tx-executor benchmark: agents' signed spends through a real executor process against a real
 * `hardhat node` with interval mining.
 *
 *   npm run bench:executor                       # 1,000 requests from 20 agents, 1 s blocks, PGlite
 *   npm run bench:executor:ci                    # the short version CI runs (100 requests, 5 agents)
 *   BENCH_REQUESTS=2000 BENCH_AGENTS=40 BENCH_BLOCK_MS=2000 npm run bench:executor
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:executor   # on PostgreSQL
 *
 * Set-up (not timed): the suite (AgentRegistry, SpendingLimitModule), and per agent a key, a
 * registration and charter, a 1-of-1 Safe with the module enabled, bound, an ETH policy and 1 ETH.
 * Then each agent sends its share of spends back to back (all agents at once). Prints the
 * accepted-to-confirmed throughput, p50 and p99 latency (from the client's 202 to the executor's
 * "confirmed"), duplicates (a request executed twice) and nonce gaps (relayer nonces never used).
 * Exits 1 when a request is lost, refused, executed twice or a nonce gap exists.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { Client as PgClient } from "pg";
import { type Address, createPublicClient, decodeFunctionData, type Hex, http, parseAbiItem } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createSafe, deploySafeContracts, type SafeConnection } from "../../deploy/safe";
import { ExecutorClient } from "../../keepers/tx-executor/client";
import {
  buildAction,
  buildSpend,
  type Deployment,
  ETH,
  fromViemAccount,
  loadAbi,
  SpendNonces,
  signAction,
  toBytes32Text,
} from "../../sdk";
import { enableModuleCall, execSafeTransaction } from "../../sdk/safe";
import { rpc, startHardhatNode } from "../../test/helpers/hardhatNode";
import { uniqueName } from "../../test/helpers/tmp";
import { devKey, executorEnv, killAllExecutors, pool, startExecutorProcess } from "../../test/tx-executor/helpers";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000);
const AGENTS = Number(process.env.BENCH_AGENTS ?? 20);
const BLOCK_MS = Number(process.env.BENCH_BLOCK_MS ?? 1_000);
const DATABASE = process.env.BENCH_DATABASE_URL;
const DEPLOYER = 0;
const OPERATOR = 3;
const RELAYER = 19;
const RECIPIENT = "0x000000000000000000000000000000000000bEEF" as Address;
const AMOUNT = 10n ** 12n;

/** Bytecode and ABI of a Covenant contract from the build (`npm run build`). */
function artifact(name: string): { abi: unknown[]; bytecode: string } {
  const find = (dir: string): string | undefined => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (!e.isDirectory()) continue;
      if (e.name === `${name}.sol` && existsSync(join(p, `${name}.json`))) return join(p, `${name}.json`);
      const r = find(p);
      if (r) return r;
    }
    return undefined;
  };
  const file = find(join(__dirname, "..", "..", "artifacts", "contracts"));
  if (!file) throw new Error(`no artifact for ${name}: run npm run build first`);
  return JSON.parse(readFileSync(file, "utf8")) as { abi: unknown[]; bytecode: string };
}

async function setUp(url: string) {
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const deployer = new NonceManager(new Wallet(devKey(DEPLOYER), provider));
  // No NonceManager: protocol-kit sends from the operator key too.
  const operator = new Wallet(devKey(OPERATOR), provider);
  const operatorAddress = privateKeyToAccount(devKey(OPERATOR)).address;
  const deployerAddress = privateKeyToAccount(devKey(DEPLOYER)).address;
  const chainId = Number((await provider.getNetwork()).chainId);
  const deploy = async (name: string, args: unknown[]) => {
    const a = artifact(name);
    const c = await new ContractFactory(a.abi as never[], a.bytecode, deployer).deploy(...args);
    await c.waitForDeployment();
    return c;
  };
  const registry = await deploy("AgentRegistry", [deployerAddress, deployerAddress, 86_400]);
  const module = await deploy("SpendingLimitModule", [await registry.getAddress(), deployerAddress, deployerAddress]);
  const registryAddress = (await registry.getAddress()) as Address;
  const moduleAddress = (await module.getAddress()) as Address;
  const safeContracts = await deploySafeContracts(deployer);
  const conn: SafeConnection = { provider: url as never, signer: devKey(OPERATOR), chainId, contracts: safeContracts };
  const deployment: Deployment = { chainId, registry: registryAddress, spendingLimits: moduleAddress };
  const reg = registry.connect(operator) as unknown as Record<
    string,
    (...a: unknown[]) => Promise<{ wait(): Promise<unknown> }>
  > & {
    getFunction(name: string): { staticCall(...a: unknown[]): Promise<bigint> };
  };
  const relayerReg = registry.connect(deployer) as unknown as Record<
    string,
    (...a: unknown[]) => Promise<{ wait(): Promise<unknown> }>
  >;
  const mod = module.connect(operator) as unknown as Record<
    string,
    (...a: unknown[]) => Promise<{ wait(): Promise<unknown> }>
  > & {
    interface: { encodeFunctionData(name: string, args: unknown[]): string };
  };

  const agents: { agentId: bigint; key: Hex }[] = [];
  await pool([...Array(AGENTS).keys()], 1, async (i) => {
    const key = generatePrivateKey();
    const account = privateKeyToAccount(key);
    const agentId = await reg.getFunction("register(string)").staticCall(`ipfs://bench/${i}`);
    await (await reg["register(string)"]!(`ipfs://bench/${i}`)).wait();
    await (await reg.offerCharter!(agentId, account.address)).wait();
    const block = await provider.getBlock("latest");
    const values = [toBytes32Text("Spend within limits")];
    const accept = await signAction(
      fromViemAccount(account),
      buildAction("AcceptCharter", deployment, {
        agentId,
        signer: account.address,
        coreValues: values,
        deadline: BigInt(block!.timestamp + 3600),
      }),
    );
    await (await relayerReg.acceptCharterBySig!(agentId, values, accept.message.deadline, accept.signature)).wait();
    const safe = (await createSafe(conn, [operatorAddress], 1, String(10_000 + i))).address as Address;
    await execSafeTransaction(conn, safe, [devKey(OPERATOR)], [enableModuleCall(safe, moduleAddress)]);
    await (await mod.bindSafe!(agentId, safe)).wait();
    await execSafeTransaction(
      conn,
      safe,
      [devKey(OPERATOR)],
      [
        {
          to: moduleAddress,
          data: mod.interface.encodeFunctionData("setTokenPolicy", [agentId, ETH, 10n ** 18n, 10n ** 20n]) as Hex,
        },
      ],
    );
    await (await deployer.sendTransaction({ to: safe, value: 10n ** 18n })).wait();
    agents.push({ agentId, key });
  });
  provider.destroy();
  return { chainId, registryAddress, moduleAddress, deployment, agents };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const started = Date.now();
  const node = await startHardhatNode();
  let dbName: string | undefined;
  try {
    console.log(`hardhat node ${node.url} (pid ${node.pid}); setting up ${AGENTS} agents with Safes…`);
    const s = await setUp(node.url);
    let databaseUrl: string | undefined;
    if (DATABASE) {
      dbName = uniqueName("covenant_bench").toLowerCase();
      const admin = new PgClient({ connectionString: DATABASE });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${dbName}"`);
      await admin.end();
      const u = new URL(DATABASE);
      u.pathname = `/${dbName}`;
      databaseUrl = u.toString();
    }
    const ex = await startExecutorProcess(
      await executorEnv(node.url, {
        KEEPER_PRIVATE_KEY: devKey(RELAYER),
        SPENDING_MODULE: s.moduleAddress,
        MAX_IN_FLIGHT: String(REQUESTS + 10),
        POLL_INTERVAL_MS: "250",
        BROADCAST_CONCURRENCY: "8",
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
        ...(databaseUrl && { DATABASE_URL: databaseUrl }),
      }),
      90_000,
      // BENCH_PROFILE=<dir>: a CPU profile of the executor process, written when it stops.
      process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
    );
    // Interval mining from here on, as on a real chain.
    await rpc(node.url, "evm_setAutomine", [false]);
    await rpc(node.url, "evm_setIntervalMining", [BLOCK_MS]);
    const setUpSeconds = (Date.now() - started) / 1000;

    // The load: every agent sends its share back to back; all agents at once.
    const client = new ExecutorClient(ex.url);
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 86_400);
    const perAgent = Math.ceil(REQUESTS / AGENTS);
    const accepted: { id: string; at: number; agentId: bigint; nonce: bigint }[] = [];
    const refused: string[] = [];
    const t0 = Date.now();
    await pool(s.agents, AGENTS, async (agent, a) => {
      const account = privateKeyToAccount(agent.key);
      const nonces = new SpendNonces();
      const signer = fromViemAccount(account);
      for (let i = 0; i < perAgent && a * perAgent + i < REQUESTS; i++) {
        const nonce = nonces.next();
        const signed = await signAction(
          signer,
          buildSpend(s.deployment, {
            agentId: agent.agentId,
            to: RECIPIENT,
            amount: AMOUNT,
            nonce,
            deadline,
            gas: 60_000n,
          }),
        );
        const r = await client.executeSpend(`bench-${agent.agentId}-${i}`, signed);
        if (r.ok) accepted.push({ id: r.record.id, at: Date.now(), agentId: agent.agentId, nonce });
        else refused.push(`${r.refusal.status} ${r.refusal.code}: ${r.refusal.message}`);
      }
    });
    const acceptSeconds = (Date.now() - t0) / 1000;

    // Wait until the executor reports every accepted request final (one metrics read at a time).
    const waitDeadline = Date.now() + 600_000;
    for (;;) {
      const text = await (await fetch(`${ex.url}/metrics`)).text();
      const done = [...text.matchAll(/covenant_tx_executor_transactions_total\{[^}]*\} (\d+)/g)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      );
      if (done >= accepted.length) break;
      if (Date.now() > waitDeadline) throw new Error(`only ${done} of ${accepted.length} final after 10 min`);
      await new Promise((r) => setTimeout(r, 500));
    }

    // Each request's final record (executor clock = this machine's clock).
    const records = await pool(accepted, 8, (a) => client.status(a.id));
    const latencies: number[] = [];
    let lastConfirmed = 0;
    const hashes = new Set<string>();
    let notConfirmed = 0;
    for (const [i, rec] of records.entries()) {
      if (rec?.status !== "confirmed") {
        notConfirmed++;
        continue;
      }
      const confirmedAt = new Date(rec.updatedAt).getTime();
      latencies.push(confirmedAt - accepted[i]!.at);
      lastConfirmed = Math.max(lastConfirmed, confirmedAt);
      hashes.add(rec.hash!);
    }
    latencies.sort((x, y) => x - y);

    // Where the time goes, from the audit trail of every 10th request (executor clock).
    const stages = {
      "received→accepted": [] as number[],
      "accepted→signed": [] as number[],
      "signed→broadcast": [] as number[],
      "broadcast→confirmed": [] as number[],
    };
    await pool(
      accepted.filter((_, i) => i % 10 === 0),
      4,
      async (a) => {
        const r = await fetch(`${ex.url}/tx/audit/${a.id}`);
        const entries = ((await r.json()) as { entries: { event: string; at: string }[] }).entries;
        const at = (e: string) => {
          const x = entries.find((y) => y.event === e);
          return x ? new Date(x.at).getTime() : Number.NaN;
        };
        stages["received→accepted"].push(at("accepted") - at("received"));
        stages["accepted→signed"].push(at("signed") - at("accepted"));
        stages["signed→broadcast"].push(at("broadcast") - at("signed"));
        stages["broadcast→confirmed"].push(at("confirmed") - at("broadcast"));
      },
    );
    const stageLine = Object.entries(stages)
      .map(
        ([k, v]) =>
          `${k} ${(
            percentile(
              v.filter(Number.isFinite).sort((x, y) => x - y),
              50,
            ) / 1000
          ).toFixed(2)} s`,
      )
      .join(", ");

    // The chain: the relayer's transactions, decoded; each (agent, Spend nonce) executed once.
    const chain = createPublicClient({ transport: http(node.url) });
    const relayer = privateKeyToAccount(devKey(RELAYER)).address;
    const moduleAbi = loadAbi("SpendingLimitModule");
    const spentTxs = new Set(
      (
        await chain.getLogs({
          address: s.moduleAddress,
          event: parseAbiItem(
            "event Spent(uint256 indexed agentId, address indexed token, address indexed to, uint256 amount, uint256 remainingToday)",
          ),
          fromBlock: 0n,
        })
      ).map((l) => l.transactionHash),
    );
    const seen = new Map<string, number>();
    let reverted = 0;
    const head = await chain.getBlockNumber();
    for (let n = 0n; n <= head; n++) {
      const block = await chain.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        if (tx.from.toLowerCase() !== relayer.toLowerCase()) continue;
        if (!spentTxs.has(tx.hash)) {
          reverted++;
          continue;
        }
        const { args } = decodeFunctionData({ abi: moduleAbi, data: tx.input });
        const k = `${args![0]}:${args![4]}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
    }
    const duplicates = [...seen.values()].filter((c) => c > 1).length;
    const missing = accepted.filter((a) => !seen.has(`${a.agentId}:${a.nonce}`)).length;
    const relayerCount = await chain.getTransactionCount({ address: relayer });
    const nonces = new Set<number>();
    for (const hash of hashes) nonces.add((await chain.getTransaction({ hash: hash as Hex })).nonce);
    let gaps = 0;
    for (let n = 0; n < relayerCount; n++) if (!nonces.has(n)) gaps++;
    const firstBlock = Math.min(
      ...(await Promise.all(
        [...hashes]
          .slice(0, 1)
          .map(async (h) => Number((await chain.getTransactionReceipt({ hash: h as Hex })).blockNumber)),
      )),
    );
    const lastBlock = Number(await chain.getBlockNumber());

    const span = (lastConfirmed - Math.min(...accepted.map((a) => a.at))) / 1000;
    const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(`
tx-executor benchmark: ${REQUESTS} signed spends from ${AGENTS} agents, hardhat node with ${BLOCK_MS} ms interval mining, ${DATABASE ? "PostgreSQL" : "PGlite"}
  set-up (not timed):            ${setUpSeconds.toFixed(1)} s
  accepted:                      ${accepted.length} (refused ${refused.length}) in ${acceptSeconds.toFixed(1)} s → ${(accepted.length / acceptSeconds).toFixed(1)} requests/s
  confirmed:                     ${latencies.length} (not confirmed: ${notConfirmed}, missing on chain: ${missing})
  accepted-to-confirmed:         ${(latencies.length / span).toFixed(1)} tx/s over ${span.toFixed(1)} s (first 202 to last confirmation)
  latency (202 → confirmed):     p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1) ?? Number.NaN)}
  duplicates:                    ${duplicates} (relayed transactions that reverted: ${reverted})
  nonce gaps:                    ${gaps} (relayer sent ${relayerCount} transactions, nonces 0..${relayerCount - 1})
  median per stage:              ${stageLine}
  blocks:                        ${Number.isFinite(firstBlock) ? lastBlock - firstBlock + 1 : 0}
`);
    if (refused.length > 0) console.log(`first refusal: ${refused[0]}`);
    await ex.stop();
    // BENCH_LOG=<file>: the executor's log lines (LOG_LEVEL from BENCH_LOG_LEVEL, default warn).
    if (process.env.BENCH_LOG) writeFileSync(process.env.BENCH_LOG, `${ex.logs().join("\n")}\n`);
    const ok =
      refused.length === 0 && notConfirmed === 0 && missing === 0 && duplicates === 0 && gaps === 0 && reverted === 0;
    if (!ok) {
      console.error("benchmark FAILED its checks");
      process.exitCode = 1;
    }
  } finally {
    await killAllExecutors();
    await node.stop();
    if (dbName && DATABASE) {
      const admin = new PgClient({ connectionString: DATABASE });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
