import { hostname } from "node:os";
import { join } from "node:path";
import type { DestinationStream } from "pino";
import type { LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { BaseService, ConfigError, type Env, loadMigrations, loadSigner, withRetry } from "../shared";
import { AnomalyReporter } from "./anomalies";
import { registerRoutes } from "./api";
import { KeeperTokens } from "./auth";
import { GasCharger } from "./charges";
import { type ExecutorConfig, executorConfigSchema } from "./config";
import { Executor } from "./executor";
import { executorMetrics } from "./metrics";
import { ExecutorStore } from "./requests";
import { createSpendPolicy } from "./spendPolicy";

/*
 * The tx-executor as a keeper process: BaseService's config, logs, metrics, /healthz and SIGTERM
 * handling around the Executor, with the HTTP API on the same server as /metrics.
 */

export type TxExecutorServiceOptions = { env?: Env; logDestination?: DestinationStream };

export class TxExecutorService extends BaseService<typeof executorConfigSchema> {
  executor!: Executor;
  /** Charges relayed gas to agents' budgets when TREASURY_ADDRESS is set. */
  charger?: GasCharger;
  private lastCharge = Date.now();

  constructor(options: TxExecutorServiceOptions = {}) {
    super({
      name: "tx-executor",
      configSchema: executorConfigSchema,
      env: options.env,
      logDestination: options.logDestination,
      // A request in flight finishes its writes; nothing here runs for long.
      stopTimeoutMs: 20_000,
    });
  }

  /** The URL the API listens on (after start). */
  url(): string {
    return this.http.address().url;
  }

  protected async init(): Promise<void> {
    const cfg: ExecutorConfig = this.config;
    for (const keeper of cfg.KEEPER_KEYS.keys()) {
      if (!cfg.KEEPER_TOKENS.has(keeper)) {
        throw new ConfigError([
          { variable: "KEEPER_KEYS", message: `keeper ${keeper} has a key but no token in KEEPER_TOKENS` },
        ]);
      }
    }
    const { store, schema } = await this.openStore(loadMigrations(join(__dirname, "migrations")));
    // A node that closes idle keep-alive connections fails the first request with "other side
    // closed"; eth_chainId at start goes out without a retry of its own, so retry it here.
    const chain = await withRetry(() => this.connectChain(), {
      retries: 4,
      baseDelayMs: 250,
      maxDelayMs: 2_000,
      onRetry: ({ err, attempt }) => this.logger.warn({ err, attempt }, "RPC not answering at start; retrying"),
    });
    const relayer = await loadSigner(cfg);
    if (!relayer) throw new ConfigError([{ variable: "KEEPER_PRIVATE_KEY", message: "required (the relayer key)" }]);
    const sentinel = cfg.SENTINEL_PRIVATE_KEY ? privateKeyToAccount(cfg.SENTINEL_PRIVATE_KEY.reveal()) : undefined;
    if (sentinel && sentinel.address === relayer.address) {
      throw new ConfigError([{ variable: "SENTINEL_PRIVATE_KEY", message: "must be another key than the relayer's" }]);
    }
    const keeperAccounts = new Map<string, LocalAccount>();
    for (const [keeper, key] of cfg.KEEPER_KEYS) keeperAccounts.set(keeper, privateKeyToAccount(key.reveal()));

    const policy = cfg.SPENDING_MODULE
      ? await createSpendPolicy({ chain, module: cfg.SPENDING_MODULE, registry: cfg.AGENT_REGISTRY })
      : undefined;
    if ((cfg.ANOMALY_URL === undefined) !== (cfg.ANOMALY_TOKEN === undefined)) {
      throw new ConfigError([
        cfg.ANOMALY_URL === undefined
          ? { variable: "ANOMALY_URL", message: "required with ANOMALY_TOKEN" }
          : { variable: "ANOMALY_TOKEN", message: "required with ANOMALY_URL" },
      ]);
    }
    const instance = cfg.INSTANCE_ID ?? `${hostname()}-${process.pid}`;
    const metrics = executorMetrics(this.metrics);
    const executorStore = new ExecutorStore(store, schema, instance);
    this.executor = new Executor({
      store: executorStore,
      anomalies:
        cfg.ANOMALY_URL && cfg.ANOMALY_TOKEN
          ? new AnomalyReporter(executorStore, cfg.ANOMALY_URL, cfg.ANOMALY_TOKEN, this.logger)
          : undefined,
      chain,
      relayer,
      sentinel,
      keeperAccounts,
      policy,
      keeperTokens: new KeeperTokens(cfg.KEEPER_TOKENS),
      sender: {
        maxInFlight: cfg.MAX_IN_FLIGHT,
        confirmations: cfg.CONFIRMATIONS,
        broadcastConcurrency: cfg.BROADCAST_CONCURRENCY,
        replaceAfterMs: cfg.REPLACE_AFTER_MS,
        rebroadcastAfterMs: cfg.REBROADCAST_AFTER_MS,
        retryBroadcastMs: cfg.RETRY_BROADCAST_MS,
        bumpPercent: cfg.FEE_BUMP_PERCENT,
        maxFeePerGas: cfg.MAX_FEE_PER_GAS_WEI,
        maxReplacements: cfg.MAX_REPLACEMENTS,
      },
      gasMarginPercent: cfg.GAS_MARGIN_PERCENT,
      simulateAt: cfg.SIMULATE_AT,
      evaluationClaimMs: cfg.EVALUATION_CLAIM_MS,
      rateLimit: { requests: cfg.AGENT_RATE_LIMIT, windowMs: cfg.AGENT_RATE_WINDOW_MS },
      breaker: {
        overCapRefusals: cfg.BREAKER_OVER_CAP_REFUSALS,
        unknownTargetRefusals: cfg.BREAKER_UNKNOWN_TARGET_REFUSALS,
        windowMs: cfg.BREAKER_WINDOW_MS,
      },
      logger: this.logger,
      metrics,
    });
    if (cfg.TREASURY_ADDRESS) {
      this.charger = new GasCharger({
        store: executorStore,
        chain,
        submitter: this.executor.submitterFor("gas-charger"),
        treasury: cfg.TREASURY_ADDRESS,
        batchSize: cfg.GAS_CHARGE_BATCH,
        staleClaimMs: Math.max(60_000, 2 * cfg.EVALUATION_CLAIM_MS),
        logger: this.logger.child({ part: "gas-charger" }),
        metrics,
      });
      if (!(await this.charger.mayCharge(relayer.address))) {
        throw new ConfigError([
          {
            variable: "TREASURY_ADDRESS",
            message: `the relayer ${relayer.address} does not hold RELAYED_GAS_SERVICE on this Treasury`,
          },
        ]);
      }
    }
    registerRoutes(this.http, this.executor);
    this.onStop("executor", () => this.executor.drain());
    this.logger.info(
      {
        instance,
        relayer: relayer.address,
        sentinel: sentinel?.address,
        anomalies: cfg.ANOMALY_URL,
        keepers: [...cfg.KEEPER_TOKENS.keys()],
        spendingModule: cfg.SPENDING_MODULE,
        treasury: cfg.TREASURY_ADDRESS,
        store: store.engine,
      },
      "tx-executor ready",
    );
  }

  private ticks = 0;

  protected async tick(): Promise<void> {
    await this.executor.tick();
    if (this.charger && Date.now() - this.lastCharge >= this.config.GAS_CHARGE_INTERVAL_MS) {
      this.lastCharge = Date.now();
      await this.charger.round();
    }
    if (++this.ticks % 300 === 0) await this.executor.pruneRateWindows();
  }
}
