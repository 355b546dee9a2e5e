import { EarningsKeeper } from "../../../keepers/earnings/service";
import type { Env } from "../../../keepers/shared";
import type { EarningsChain } from "../../fixtures/earningsChain";
import { NODE_KEYS } from "../../fixtures/earningsChain";
import { captureLogs } from "../shared/fixtures/captureLogs";

/**
 * The earnings keeper under test: started for real (config, store, chain, HTTP), with a loop interval so long that
 * only its first tick runs by itself; the test drives the others with `step()`.
 */
export class SteppedKeeper extends EarningsKeeper {
  readonly logs: ReturnType<typeof captureLogs>;

  constructor(env: Env, name: string) {
    const logs = captureLogs();
    super({ env, name, logDestination: logs.stream });
    this.logs = logs;
  }

  /** Starts and waits for the first tick to finish. */
  async begin(): Promise<this> {
    await this.start();
    const deadline = Date.now() + 120_000;
    while (!this.health().lastSuccessAt && this.health().consecutiveFailures === 0) {
      if (Date.now() > deadline) throw new Error("the first tick did not finish");
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!this.health().lastSuccessAt) throw new Error(`the first tick failed: ${this.health().lastError}`);
    return this;
  }

  /** One more tick, now. */
  async step(): Promise<void> {
    await this.tick(new AbortController().signal);
  }

  /** The HTTP base URL. */
  get url(): string {
    return this.http.address()!.url;
  }

  async metricsText(): Promise<string> {
    return this.metrics.text();
  }
}

export function keeperEnv(chain: EarningsChain, dataDir: string, extra: Env = {}): Env {
  return {
    RPC_URLS: chain.url,
    CHAIN_ID: String(chain.chainId),
    HTTP_PORT: "0",
    POLL_INTERVAL_MS: "3600000",
    CONFIRMATIONS: "0",
    LOG_LEVEL: "info",
    KEEPER_PRIVATE_KEY: NODE_KEYS.poster,
    ROUTER_ADDRESS: chain.addresses.router,
    DISTRIBUTOR_ADDRESS: chain.addresses.distributor,
    START_BLOCK: chain.startBlock.toString(),
    DATA_DIR: dataDir,
    TX_WAIT_MS: "30000",
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    ...extra,
  };
}
