import type { Metrics } from "../shared";

/** The backup keeper's own metrics (prefixed covenant_backup_). */
export function backupMetrics(m: Metrics) {
  return {
    backups: m.counter("backups_total", "Backups by outcome (anchored, failed, anchor_failed, refused_<code>)", [
      "outcome",
    ]),
    bytes: m.counter("backup_bytes_total", "Bytes backed up: plaintext archive and encrypted envelope", ["kind"]),
    duration: m.histogram("backup_duration_seconds", "Duration of sealing a backup and of a restore", ["stage"]),
    restores: m.counter("restores_total", "Restores by outcome (restored, or the refusal code)", ["outcome"]),
    lag: m.histogram(
      "anchoring_lag_seconds",
      "From a backup's request to its confirmed anchor",
      [],
      [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    ),
    queue: m.gauge("requests", "Backup requests by status", ["status"]),
    charges: m.counter("budget_charges_total", "Backup charges to agents' infrastructure budgets by outcome", [
      "outcome",
    ]),
  };
}
