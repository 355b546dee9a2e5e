import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const created = new Set<string>();

/** A fresh directory under the OS temp dir, removed by `removeTempDirs()` or at process exit. */
export function makeTempDir(prefix = "covenant-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  created.delete(dir);
}

export function removeTempDirs(): void {
  for (const dir of [...created]) removeTempDir(dir);
}

process.once("exit", removeTempDirs);

/** A name no other test run uses (schemas, cursors, keys). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}
