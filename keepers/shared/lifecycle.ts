import type { DestinationStream } from "pino";
import type { z } from "zod";
import { type ChainConnection, connectChain } from "./chain";
import { type Env, type LogLevel, loadConfig } from "./config";
import { AbortedError, ConfigError, classifyError, isAbortError } from "./errors";
import { type HealthCheck, HttpServer } from "./http";
import { createLogger, type Logger } from "./logger";
import { createMetrics, type Metrics } from "./metrics";
import { type Migration, migrate, migrateShared } from "./migrations";
import { sleep } from "./retry";
import { keeperSchema, openStore, type Store } from "./store";

/*
 * The life of a keeper process, after Optimism's BaseServiceV2:
 *
 *   start():  load and validate the config (a ConfigError names every bad variable and the process
 *             exits 78), create logger, metrics and HTTP server, run the keeper's init(), listen,
 *             then call tick() every POLL_INTERVAL_MS.
 *   loop:     ticks never overlap (the next one is scheduled when the previous one ends). A tick that
 *             throws a retryable error is logged and counted and the next tick simply tries again;
 *             a fatal error stops the service with exit code 1.
 *   stop():   on SIGTERM/SIGINT: no new tick is scheduled, the in-flight tick finishes (its signal
 *             is aborted only after stopTimeoutMs), the HTTP server and everything registered with
 *             onStop() (store, …) are closed in reverse order, exit code 0.
 */

/** The variables BaseService itself reads; `keeperConfigSchema` provides them. */
export type ServiceConfig = {
  LOG_LEVEL: LogLevel;
  HTTP_HOST: string;
  HTTP_PORT: number;
  POLL_INTERVAL_MS: number;
};

export type ServiceOptions<S extends z.ZodType<ServiceConfig>> = {
  /** The keeper's name (metrics prefix, log `service` field, schema names). */
  name: string;
  configSchema: S;
  /** Environment to read (default process.env). */
  env?: Env;
  /** How long stop() lets the in-flight tick run before aborting its signal (default 30 s). */
  stopTimeoutMs?: number;
  /** /healthz reports the loop stalled when no tick succeeded for this long (default max(5 × interval, 60 s)). */
  stallAfterMs?: number;
  /** Where logs go (default stdout); tests capture them here. */
  logDestination?: DestinationStream;
};

export type ServiceHealth = {
  running: boolean;
  ticks: number;
  lastTickAt?: Date;
  lastSuccessAt?: Date;
  consecutiveFailures: number;
  lastError?: string;
};

/** Exit codes: 0 clean stop, 1 fatal error (or a tick that would not stop), 78 bad configuration (EX_CONFIG). */
export const EXIT_OK = 0;
export const EXIT_FATAL = 1;
export const EXIT_CONFIG = 78;

export abstract class BaseService<S extends z.ZodType<ServiceConfig> = z.ZodType<ServiceConfig>> {
  readonly name: string;
  protected config!: z.output<S>;
  protected logger: Logger;
  protected metrics!: Metrics;
  protected http!: HttpServer;

  private readonly options: ServiceOptions<S>;
  private readonly closers: { name: string; close: () => Promise<void> | void }[] = [];
  private readonly pendingChecks: [string, HealthCheck][] = [];
  private readonly scheduleAbort = new AbortController();
  private readonly tickAbort = new AbortController();
  private readonly state: ServiceHealth = { running: false, ticks: 0, consecutiveFailures: 0 };
  private startedAt = Date.now();
  private loopDone?: Promise<void>;
  /** init() and listen(), while they run: a stop waits for them instead of closing what they are opening. */
  private starting?: Promise<void>;
  private stopping?: Promise<number>;
  private resolveDone!: (code: number) => void;
  /** Resolves with the exit code once the service has stopped, for whatever reason. */
  readonly done: Promise<number>;
  private tickMetrics?: {
    ticks: ReturnType<Metrics["counter"]>;
    duration: ReturnType<Metrics["histogram"]>;
    lastSuccess: ReturnType<Metrics["gauge"]>;
  };

  constructor(options: ServiceOptions<S>) {
    this.options = options;
    this.name = options.name;
    this.logger = createLogger(options.name, "info", options.logDestination);
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  /** Prepares the keeper (open the store, connect to the chain, …). Runs once, before the first tick. */
  protected abstract init(): Promise<void>;

  /** One unit of work. `signal` aborts only when a stop has waited too long for this tick. */
  protected abstract tick(signal: AbortSignal): Promise<void>;

  /** Registers a resource to close at stop, in reverse order of registration. */
  protected onStop(name: string, close: () => Promise<void> | void): void {
    this.closers.push({ name, close });
  }

  /** Adds a /healthz check (may be called in init()). */
  protected addHealthCheck(name: string, check: HealthCheck): void {
    if (this.http) this.http.healthCheck(name, check);
    else this.pendingChecks.push([name, check]);
  }

  /**
   * Opens the store from DATABASE_URL or DATA_DIR, applies keepers/shared's migrations and the
   * keeper's own (`migrations`, into the keeper's schema), adds a health check and closes it at stop.
   */
  protected async openStore(
    migrations: readonly Migration[] = [],
  ): Promise<{ store: Store; schema: string; sharedSchema: string }> {
    const cfg = this.config as unknown as { DATABASE_URL?: string; DATA_DIR?: string };
    const store = await openStore({ databaseUrl: cfg.DATABASE_URL, dataDir: cfg.DATA_DIR, logger: this.logger });
    this.onStop("store", () => store.close());
    const sharedSchema = await migrateShared(store, this.name, this.logger);
    const schema = keeperSchema(this.name);
    if (migrations.length > 0) await migrate(store, schema, migrations, this.logger);
    this.addHealthCheck("store", async () => {
      await store.ping();
      return { ok: true, detail: store.engine };
    });
    return { store, schema, sharedSchema };
  }

  /** Connects to RPC_URLS with failover, checks CHAIN_ID on every URL and adds an "rpc" health check. */
  protected async connectChain(): Promise<ChainConnection> {
    const cfg = this.config as unknown as { RPC_URLS: string[]; CHAIN_ID: number; RPC_TIMEOUT_MS?: number };
    const chain = connectChain({
      rpcUrls: cfg.RPC_URLS,
      chainId: cfg.CHAIN_ID,
      timeoutMs: cfg.RPC_TIMEOUT_MS,
      logger: this.logger,
    });
    await chain.verifyChainId();
    this.addHealthCheck("rpc", async () => ({ ok: await chain.isReachable(), detail: chain.state().activeUrl }));
    return chain;
  }

  health(): ServiceHealth {
    return { ...this.state };
  }

  async start(): Promise<void> {
    try {
      this.config = loadConfig(this.options.configSchema, this.options.env ?? process.env);
    } catch (err) {
      this.logger.fatal({ err }, err instanceof ConfigError ? err.shortMessage : "cannot load configuration");
      this.finish(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FATAL);
      throw err;
    }
    const cfg = this.config as ServiceConfig;
    this.logger.level = cfg.LOG_LEVEL;
    this.metrics = createMetrics(this.name);
    this.tickMetrics = {
      ticks: this.metrics.counter("ticks_total", "Main loop ticks by result", ["result"]),
      duration: this.metrics.histogram("tick_duration_seconds", "Main loop tick duration"),
      lastSuccess: this.metrics.gauge(
        "last_successful_tick_timestamp_seconds",
        "Unix time of the last successful tick",
      ),
    };
    this.http = new HttpServer({
      host: cfg.HTTP_HOST,
      port: cfg.HTTP_PORT,
      logger: this.logger,
      metrics: this.metrics,
    });
    for (const [name, check] of this.pendingChecks.splice(0)) this.http.healthCheck(name, check);
    const stallAfter = this.options.stallAfterMs ?? Math.max(5 * cfg.POLL_INTERVAL_MS, 60_000);
    this.http.healthCheck("loop", () => {
      const since = this.state.lastSuccessAt?.getTime() ?? this.startedAt;
      const age = Date.now() - since;
      return {
        ok: this.state.running && age <= stallAfter,
        detail: {
          running: this.state.running,
          msSinceLastSuccess: age,
          consecutiveFailures: this.state.consecutiveFailures,
          ...(this.state.lastError && { lastError: this.state.lastError }),
        },
      };
    });
    const http = this.http;
    this.starting = (async () => {
      await this.init();
      if (this.stopping) return;
      const address = await http.listen();
      this.onStop("http", () => http.close());
      this.logger.info({ url: address.url, pollIntervalMs: cfg.POLL_INTERVAL_MS }, "service started");
    })();
    try {
      await this.starting;
    } catch (err) {
      const code = err instanceof ConfigError ? EXIT_CONFIG : EXIT_FATAL;
      this.logger.fatal({ err }, "service failed to start");
      await this.closeAll();
      this.finish(code);
      throw err;
    }
    // A stop that arrived during init() has waited for it and closes what it opened: never start the loop then.
    if (this.stopping) return;
    this.startedAt = Date.now();
    this.state.running = true;
    this.loopDone = this.loop(cfg.POLL_INTERVAL_MS);
  }

  /**
   * Stops the service: no new tick, wait for the in-flight one, close everything. Returns (and
   * resolves `done` with) the exit code. Idempotent.
   */
  stop(reason = "stop requested", code = EXIT_OK): Promise<number> {
    this.stopping ??= this.shutdown(reason, code);
    return this.stopping;
  }

  private async shutdown(reason: string, code: number): Promise<number> {
    this.logger.info({ reason }, "stopping");
    this.scheduleAbort.abort(new AbortedError(reason));
    // Let a running init() finish (its failure is start()'s to report) before closing what it opened.
    if (this.starting) await this.starting.catch(() => undefined);
    let exitCode = code;
    if (this.loopDone) {
      const stopTimeoutMs = this.options.stopTimeoutMs ?? 30_000;
      if (!(await settlesWithin(this.loopDone, stopTimeoutMs))) {
        this.logger.warn({ stopTimeoutMs }, "in-flight tick still running; aborting it");
        this.tickAbort.abort(new AbortedError("stop timeout"));
        if (!(await settlesWithin(this.loopDone, 5_000))) {
          this.logger.error("the in-flight tick ignored its abort signal; exiting without it");
          exitCode = EXIT_FATAL;
        }
      }
    }
    this.state.running = false;
    await this.closeAll();
    this.logger.info({ exitCode }, "stopped");
    this.finish(exitCode);
    return exitCode;
  }

  private async closeAll(): Promise<void> {
    for (const { name, close } of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        this.logger.error({ err, resource: name }, "close failed");
      }
    }
  }

  private finish(code: number): void {
    this.resolveDone(code);
  }

  private async loop(intervalMs: number): Promise<void> {
    const signal = this.scheduleAbort.signal;
    while (!signal.aborted) {
      const started = Date.now();
      await this.runTick();
      if (signal.aborted) break;
      try {
        await sleep(Math.max(0, intervalMs - (Date.now() - started)), signal);
      } catch {
        break;
      }
    }
  }

  private async runTick(): Promise<void> {
    const n = ++this.state.ticks;
    this.state.lastTickAt = new Date();
    const end = this.tickMetrics?.duration.startTimer();
    try {
      await this.tick(this.tickAbort.signal);
      this.state.lastSuccessAt = new Date();
      this.state.consecutiveFailures = 0;
      this.state.lastError = undefined;
      this.tickMetrics?.ticks.inc({ result: "ok" });
      this.tickMetrics?.lastSuccess.set(Date.now() / 1000);
    } catch (err) {
      if (this.tickAbort.signal.aborted && isAbortError(err)) {
        this.logger.warn({ tick: n }, "tick aborted by shutdown");
        return;
      }
      const c = classifyError(err);
      this.state.lastError = (err as Error)?.message?.split("\n")[0] ?? String(err);
      if (c.retryable) {
        this.state.consecutiveFailures++;
        this.tickMetrics?.ticks.inc({ result: "retryable_error" });
        this.logger.warn(
          { err, tick: n, kind: c.kind, consecutiveFailures: this.state.consecutiveFailures },
          "tick failed; retrying next tick",
        );
      } else {
        this.tickMetrics?.ticks.inc({ result: "fatal_error" });
        this.logger.fatal({ err, tick: n, kind: c.kind }, "tick failed with a fatal error; stopping");
        this.scheduleAbort.abort(new AbortedError("fatal error"));
        void this.stop("fatal error", EXIT_FATAL);
      }
    } finally {
      end?.();
    }
  }
}

/**
 * Entry point for a keeper's main file: starts the service, stops it on SIGTERM/SIGINT (a second
 * signal exits at once with 1) and exits the process with the service's exit code.
 *
 *   runService(new EarningsKeeper());
 */
export async function runService(service: BaseService<z.ZodType<ServiceConfig>>): Promise<never> {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`${signal} again: exiting without waiting\n`);
      process.exit(EXIT_FATAL);
    }
    void service.stop(`received ${signal}`);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  process.on("unhandledRejection", (err) => {
    process.stderr.write(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}\n`);
    void service.stop("unhandled rejection", EXIT_FATAL);
  });
  try {
    await service.start();
  } catch {
    // start() has logged the reason and resolved `done` with the exit code.
  }
  const code = await service.done;
  process.exit(code);
}

function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
