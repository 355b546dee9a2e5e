import { type Logger, type Secret, shortMessageOf } from "../shared";
import type { ExecutorStore } from "./requests";

/*
 * Reports what the executor sees to the spending keeper, which holds the sentinel key and decides
 * the freeze (docs/spending.md, POST /anomalies): a spend to a (target, selector) the Safe does not
 * allow ("unknown_target"), each refused over-cap spend ("refused_spend"), and the executor's own
 * circuit breaker tripping ("refused_burst"). Reports are stored first and sent by the loop until
 * the keeper has accepted each; the keeper records a key once, so a report sent twice counts once.
 */
export class AnomalyReporter {
  private readonly url: string;

  constructor(
    private readonly store: ExecutorStore,
    url: string,
    private readonly token: Secret,
    private readonly logger: Logger,
  ) {
    this.url = `${url.replace(/\/+$/, "")}/anomalies`;
  }

  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Sends what is not yet sent, oldest first; a failure is kept and tried again next time. Flushes run one after
   * another (the loop's and the breaker's may be asked for at once), so a report is never sent twice or out of order.
   */
  flush(limit = 20): Promise<number> {
    const run = this.queue.then(() => this.flushOnce(limit));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async flushOnce(limit: number): Promise<number> {
    let sent = 0;
    for (const r of await this.store.unsentAnomalies(limit)) {
      try {
        const res = await fetch(this.url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${this.token.reveal()}` },
          body: JSON.stringify({ agentId: r.agent_id, signal: r.signal, detail: r.detail, key: r.key }),
          signal: AbortSignal.timeout(5_000),
        });
        if (res.status === 202) {
          await this.store.anomalySent(r.id);
          sent++;
          continue;
        }
        const text = (await res.text()).slice(0, 300);
        await this.store.anomalySent(r.id, `HTTP ${res.status}: ${text}`);
        this.logger.error(
          { status: res.status, body: text, signal: r.signal },
          "the spending keeper refused an anomaly report",
        );
      } catch (err) {
        await this.store.anomalySent(r.id, shortMessageOf(err));
        if (r.attempts % 10 === 0) {
          this.logger.warn({ err, signal: r.signal, agentId: r.agent_id }, "anomaly report not delivered; retrying");
        }
        break; // the keeper is unreachable: the rest waits for the next tick
      }
    }
    return sent;
  }
}
