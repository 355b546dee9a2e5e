import { join } from "node:path";
import { Writable } from "node:stream";
import { HDNodeWallet, Mnemonic } from "ethers";
import hre from "hardhat";
import type { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { type Address, getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { errorAbi } from "../../../keepers/governance/contracts";
import { ReportStore } from "../../../keepers/governance/reports";
import { GovernanceWorker, type WorkerOptions } from "../../../keepers/governance/worker";
import {
  connectChain,
  createLogger,
  createMetrics,
  DirectSubmitter,
  keeperSchema,
  loadMigrations,
  migrate,
  migrateShared,
  openStore,
  type Store,
} from "../../../keepers/shared";
import type { GovernanceFixture } from "../../fixtures/governance";
import { makeTempDir, uniqueName } from "../../helpers/tmp";

/** The in-process Hardhat chain the tests deploy on, served over HTTP so the keeper talks JSON-RPC to it as usual. */
export async function serveHardhat(): Promise<{ url: string; close: () => Promise<void> }> {
  const { JsonRpcServer: Server } = require("hardhat/internal/hardhat-network/jsonrpc/server") as {
    JsonRpcServer: new (config: { hostname: string; port: number; provider: unknown }) => JsonRpcServer;
  };
  const server = new Server({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider });
  const { port } = await server.listen();
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** Private key of Hardhat's dev account `index` (the governance fixture's simulator is #15). */
export function devKey(index: number): `0x${string}` {
  const mnemonic = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
  return HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${index}`).privateKey as `0x${string}`;
}

export interface Harness {
  worker: GovernanceWorker;
  store: Store;
  logs: Record<string, unknown>[];
  metrics: ReturnType<typeof createMetrics>;
  reports: ReportStore;
  /** Drops the worker's schemas (PostgreSQL tests clean up after themselves). */
  dropSchemas: () => Promise<void>;
}

/**
 * A governance worker on a fresh store (PGlite in a temp folder, or PostgreSQL when `databaseUrl` is given, in
 * schemas no other test uses), signing with the fixture's simulator key, capturing its logs.
 */
export async function startWorker(
  f: GovernanceFixture,
  url: string,
  store: Store,
  options: Partial<WorkerOptions> = {},
): Promise<Harness> {
  const dir = makeTempDir("covenant-gov-keeper-");
  const keeper = uniqueName("gov");
  const sharedSchema = await migrateShared(store, keeper);
  const schema = keeperSchema(keeper);
  await migrate(store, schema, loadMigrations(join(__dirname, "../../../keepers/governance/migrations")));
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    "governance",
    "debug",
    new Writable({
      write(chunk, _enc, done) {
        for (const line of chunk.toString().split("\n")) if (line.trim()) logs.push(JSON.parse(line));
        done();
      },
    }),
  );
  const metrics = createMetrics(keeper, { defaultMetrics: false });
  const chain = connectChain({ rpcUrls: [url], chainId: 31337 });
  const account = privateKeyToAccount(devKey(15));
  if (getAddress(account.address) !== getAddress(f.simulator.address)) throw new Error("simulator key mismatch");
  const submitter = await DirectSubmitter.start({
    store,
    schema: sharedSchema,
    publicClient: chain.publicClient,
    account,
    confirmations: 0,
    errorAbi: errorAbi(),
    logger,
    metrics,
    rebroadcastAfterMs: 1_000,
  });
  const reports = new ReportStore(join(dir, "reports"));
  const worker = new GovernanceWorker({
    client: chain.publicClient,
    submitter,
    store,
    schema,
    sharedSchema,
    logger,
    metrics,
    chainId: 31337,
    governor: (await f.governor.getAddress()) as Address,
    account: account.address,
    startBlock: 0n,
    confirmations: 0,
    reorgDepth: 64,
    chunkBlocks: 2_000,
    execute: true,
    simulate: true,
    resimulateDistance: 20,
    forkUrl: url,
    reports,
    // The whole suite: the simulation checks every part's invariants.
    addresses: {
      CommonsPolicy: (await f.policy.getAddress()) as Address,
      AgentRegistry: (await f.registry.getAddress()) as Address,
      CovenantTimelock: (await f.timelock.getAddress()) as Address,
      CovenantVotes: (await f.votes.getAddress()) as Address,
      Treasury: (await f.treasury.getAddress()) as Address,
      RevenueRouter: f.router as Address,
      EarningsDistributor: f.distributor as Address,
      SpendingLimitModule: f.spendingLimits as Address,
    },
    txWaitMs: 20_000,
    ...options,
  });
  await worker.init();
  return {
    worker,
    store,
    logs,
    metrics,
    reports,
    dropSchemas: async () => {
      await store.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${sharedSchema}" CASCADE;`);
    },
  };
}

/** A store for one test file: PGlite in a temp folder, or PostgreSQL at `databaseUrl`. Each worker gets its own schemas. */
export async function openTestStore(databaseUrl?: string): Promise<Store> {
  return openStore(databaseUrl ? { databaseUrl } : { dataDir: join(makeTempDir("covenant-gov-store-"), "db") });
}
