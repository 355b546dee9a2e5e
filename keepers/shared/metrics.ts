import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics for one keeper. Each service owns its Registry (never prom-client's global
 * one), so tests and a process hosting two services get separate, complete sets. Every metric name
 * is prefixed `covenant_<keeper>_`.
 */
export class Metrics {
  readonly registry: Registry;
  readonly prefix: string;

  constructor(keeper: string, options: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    this.prefix = `covenant_${metricName(keeper)}_`;
    this.registry.setDefaultLabels({ keeper });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: this.prefix });
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter<L>({ name: this.prefix + name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge<L>({ name: this.prefix + name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: number[] = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  ): Histogram<L> {
    return new Histogram<L>({ name: this.prefix + name, help, labelNames, buckets, registers: [this.registry] });
  }

  /** The Prometheus text exposition of this registry. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export function createMetrics(keeper: string, options?: { defaultMetrics?: boolean }): Metrics {
  return new Metrics(keeper, options);
}

/** `tx-executor` → `tx_executor`: Prometheus names allow [a-zA-Z0-9_:] only. */
export function metricName(keeper: string): string {
  return keeper.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}
