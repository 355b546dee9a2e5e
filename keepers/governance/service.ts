import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Address, getAddress, type LocalAccount } from "viem";
import {
  BaseService,
  ConfigError,
  keeperSubmitter,
  Leases,
  loadMigrations,
  loadSigner,
  type ServiceOptions,
} from "../shared";
import { type GovernanceConfig, governanceConfigSchema } from "./config";
import { errorAbi } from "./contracts";
import { ReportStore } from "./reports";
import { GovernanceWorker } from "./worker";

type Options = Omit<ServiceOptions<typeof governanceConfigSchema>, "name" | "configSchema">;

/**
 * The governance keeper as a service: queues and executes passed proposals, simulates evolutions on a fork and posts
 * the attestations, with /metrics and /healthz. Several instances may share one PostgreSQL: a lease lets one act at a
 * time, and every transaction has an idempotency key.
 */
export class GovernanceKeeper extends BaseService<typeof governanceConfigSchema> {
  private worker?: GovernanceWorker;
  private leases?: Leases;
  private readonly instance = randomUUID();

  constructor(options: Options = {}) {
    super({ ...options, name: "governance", configSchema: governanceConfigSchema });
  }

  /** The worker (for tests and tools); undefined before start. */
  get current(): GovernanceWorker | undefined {
    return this.worker;
  }

  protected async init(): Promise<void> {
    const cfg: GovernanceConfig = this.config;
    const { store, schema, sharedSchema } = await this.openStore(loadMigrations(join(__dirname, "migrations")));
    this.leases = new Leases(store, sharedSchema);
    const chain = await this.connectChain();
    const account = (await loadSigner(cfg)) as LocalAccount;
    const submitter = await keeperSubmitter(cfg, {
      store,
      schema: sharedSchema,
      publicClient: chain.publicClient,
      account,
      confirmations: cfg.CONFIRMATIONS,
      errorAbi: errorAbi(),
      logger: this.logger,
      metrics: this.metrics,
    });
    this.worker = new GovernanceWorker({
      client: chain.publicClient,
      submitter,
      store,
      schema,
      sharedSchema,
      logger: this.logger,
      metrics: this.metrics,
      chainId: cfg.CHAIN_ID,
      governor: getAddress(cfg.GOVERNOR_ADDRESS),
      account: account.address,
      startBlock: BigInt(cfg.START_BLOCK),
      confirmations: cfg.CONFIRMATIONS,
      reorgDepth: cfg.REORG_DEPTH,
      chunkBlocks: cfg.LOG_CHUNK_BLOCKS,
      execute: cfg.EXECUTE,
      simulate: cfg.SIMULATE,
      resimulateDistance: cfg.RESIMULATE_DISTANCE,
      forkUrl: cfg.FORK_RPC_URL ?? cfg.RPC_URLS[0]!,
      reports: new ReportStore(cfg.REPORTS_DIR ?? join(cfg.DATA_DIR, "reports")),
      addresses: cfg.DEPLOYMENT_FILE ? readAddresses(cfg.DEPLOYMENT_FILE, cfg.CHAIN_ID) : {},
      txWaitMs: cfg.TX_WAIT_MS,
    });
    await this.worker.init();
    this.logger.info(
      { account: account.address, addresses: this.worker.addresses, execute: cfg.EXECUTE, simulate: cfg.SIMULATE },
      "governance keeper ready",
    );
  }

  protected async tick(signal: AbortSignal): Promise<void> {
    const leaseName = `governance:${this.config.CHAIN_ID}:${this.config.GOVERNOR_ADDRESS.toLowerCase()}`;
    const ttl = Math.max(60_000, 3 * this.config.POLL_INTERVAL_MS);
    const lease = await this.leases!.acquireLease(leaseName, this.instance, ttl);
    if (!lease) {
      this.logger.debug({ lease: leaseName }, "another instance holds the lease; standing by");
      return;
    }
    await this.worker!.step(signal);
  }
}

/** Contract addresses by name from a deployment record (deployments/<chainId>.json). */
function readAddresses(file: string, chainId: number): Record<string, Address> {
  let record: { chainId?: number; contracts?: Record<string, { address: string }> };
  try {
    record = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError([{ variable: "DEPLOYMENT_FILE", message: `cannot read it (${(err as Error).message})` }]);
  }
  if (record.chainId !== chainId || !record.contracts) {
    throw new ConfigError([
      { variable: "DEPLOYMENT_FILE", message: `is not a deployment record for chain ${chainId}` },
    ]);
  }
  return Object.fromEntries(Object.entries(record.contracts).map(([name, c]) => [name, getAddress(c.address)]));
}
