import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Agent } from "./agents";
import type { Rng } from "./rng";

/*
 * The backup step of a round, behind one small interface so that the simulation can drive the backup keeper
 * (keepers/backup) once it is part of the build. Until an adapter for it is written here, `loadBackupRound` returns
 * undefined and the report says that backups were not simulated: lost backups and corrupted restores are then
 * reported as null (not measured), never as 0.
 */

export type BackupFindings = {
  /** Backups the keeper acknowledged that cannot be found or restored at the end. */
  lostBackups: number;
  /** Restores that returned data other than what was backed up, or a clone's write, and were accepted. */
  corruptedRestoresAccepted: number;
  /** Conflicting records from the clone's two hosts that the keeper detected. */
  conflictsDetected: number;
  /** Honest agents whose own restore failed. */
  failedRestores: bigint[];
};

export interface BackupRound {
  /** Backs up every agent's memory folder; the clone's second host writes a conflicting record. One summary line. */
  round(round: number, agents: Agent[], rng: Rng): Promise<string>;
  /** Restores every agent's latest backup and checks it against the folder it came from. */
  findings(agents: Agent[]): Promise<BackupFindings>;
}

export type BackupAvailability = { round?: BackupRound; reason: string };

const REPO = resolve(__dirname, "..", "..");

export async function loadBackupRound(): Promise<BackupAvailability> {
  if (!existsSync(join(REPO, "keepers", "backup", "main.ts"))) {
    return { reason: "keepers/backup is not part of this build: backups were not simulated" };
  }
  return {
    reason: "keepers/backup exists but the simulation has no adapter for it yet: backups were not simulated",
  };
}
