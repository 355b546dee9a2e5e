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

  /*
   * Asking twice for one name (two LogScanners of one keeper, say) returns the metric registered first, so the
   * parts of a keeper share a series and tell themselves apart by label; another type or label set under the
   * same name is a programming error and throws.
   */
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return (
      this.existing(Counter, name, labelNames) ??
      new Counter<L>({ name: this.prefix + name, help, labelNames, registers: [this.registry] })
    );
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return (
      this.existing(Gauge, name, labelNames) ??
      new Gauge<L>({ name: this.prefix + name, help, labelNames, registers: [this.registry] })
    );
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: number[] = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  ): Histogram<L> {
    return (
      this.existing(Histogram, name, labelNames) ??
      new Histogram<L>({ name: this.prefix + name, help, labelNames, buckets, registers: [this.registry] })
    );
  }

  private existing<M extends Counter<string> | Gauge<string> | Histogram<string>>(
    type: abstract new (...args: never[]) => M,
    name: string,
    labelNames: readonly string[],
  ): // biome-ignore lint/suspicious/noExplicitAny: the caller's label type is the one it registered with
  any {
    const metric = this.registry.getSingleMetric(this.prefix + name);
    if (metric === undefined) return undefined;
    const registered = (metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    if (!(metric instanceof type) || registered.join(",") !== labelNames.join(",")) {
      throw new Error(
        `metric ${this.prefix + name} is already registered as another type or with labels [${registered.join(", ")}]`,
      );
    }
    return metric;
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
