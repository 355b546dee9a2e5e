import type { LocatedRecord } from "./chain";
import { BackupError } from "./errors";

/*
 * The keeper's pure decisions: which sequence a new backup takes, how signed records are anchored, and which record a
 * restore uses. No I/O here.
 */

/** A new backup's sequence: above everything the keeper has and everything the chain has (the registry's replay guard). */
export function nextSequence(keeperLatest: number, chainLatest: number): number {
  const next = Math.max(keeperLatest, chainLatest) + 1;
  if (next > 2 ** 32 - 1)
    throw new BackupError("the backup sequence is exhausted (uint32)", { code: "RECORD_INVALID" });
  return next;
}

export type AnchorMode = "direct" | "batch";

export type PendingRecord = { id: string; agentId: bigint; sequence: number };

export type AnchorPlan =
  | { kind: "direct"; key: string; record: PendingRecord }
  | { kind: "batch"; key: string; records: PendingRecord[] };

/**
 * How signed records reach the chain. Direct: one recordBackupBySig each. Batch: anchorBackups over up to `maxLeaves`
 * records (oldest first) once at least `minLeaves` wait, or whatever waits once the oldest has waited `maxWaitMs`.
 * Batch keys name their first record, so a re-run after a crash plans the same key for the same records.
 */
export function planAnchors(
  pending: readonly (PendingRecord & { waitingMs: number })[],
  mode: AnchorMode,
  opts: { maxLeaves: number; minLeaves: number; maxWaitMs: number },
): AnchorPlan[] {
  const sorted = [...pending].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0));
  if (mode === "direct") {
    return sorted.map((r) => ({
      kind: "direct",
      key: `backup:record:agent-${r.agentId}:seq-${r.sequence}`,
      record: r,
    }));
  }
  const plans: AnchorPlan[] = [];
  for (let i = 0; i < sorted.length; i += opts.maxLeaves) {
    const chunk = sorted.slice(i, i + opts.maxLeaves);
    const due = chunk.length >= opts.minLeaves || chunk.some((r) => r.waitingMs >= opts.maxWaitMs);
    if (!due) break;
    plans.push({ kind: "batch", key: `backup:anchor:first-${chunk[0]!.id}:n-${chunk.length}`, records: chunk });
  }
  return plans;
}

/**
 * The records a restore may use, best first: the highest sequence (or exactly `sequence` when asked), a direct
 * record before an anchored leaf of the same sequence. NO_BACKUP when there is none.
 */
export function restoreCandidates(
  agentId: bigint,
  located: readonly LocatedRecord[],
  sequence?: number,
): LocatedRecord[] {
  const mine = located.filter((l) => l.record.agentId === agentId);
  if (mine.length === 0) throw new BackupError(`agent ${agentId} has no anchored backup`, { code: "NO_BACKUP" });
  const want = sequence ?? Math.max(...mine.map((l) => l.record.sequence));
  const chosen = mine.filter((l) => l.record.sequence === want);
  if (chosen.length === 0) {
    throw new BackupError(`agent ${agentId} has no anchored backup with sequence ${want}`, { code: "NO_BACKUP" });
  }
  return chosen.sort((a, b) => (a.source.kind === b.source.kind ? 0 : a.source.kind === "direct" ? -1 : 1));
}
