import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ArchiveEntry } from "./archive";
import { BackupError } from "./errors";

/*
 * The agent's memory folder on disk: reading it into archive entries (links and special files are refused, never
 * followed, so one agent's backup can never pull in another's files) and writing entries into a fresh folder.
 */

export const MEMORY_FILES = ["facts.json", "goals.json", "task_state.json", "achievements.json"] as const;
export const WORKING_CONTEXT = "working_context.md";
export const MEMORY_INDEX = "memory_index";

/** The folder of `agentId` under `root`: `<root>/<agentId>`. */
export function agentFolder(root: string, agentId: bigint): string {
  return path.join(path.resolve(root), agentId.toString());
}

/** Creates an agent's memory folder (0700) with empty memory files (0600); existing files are left alone. */
export async function createAgentFolder(root: string, agentId: bigint): Promise<string> {
  await mkdir(path.resolve(root), { recursive: true, mode: 0o700 });
  const dir = agentFolder(root, agentId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await mkdir(path.join(dir, MEMORY_INDEX), { recursive: true, mode: 0o700 });
  const initial: Record<string, string> = {
    "facts.json": "[]\n",
    "goals.json": "[]\n",
    "task_state.json": "{}\n",
    "achievements.json": "[]\n",
    [WORKING_CONTEXT]: "",
  };
  for (const [name, content] of Object.entries(initial)) {
    await writeFile(path.join(dir, name), content, { mode: 0o600, flag: "wx" }).catch((err: { code?: string }) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
  return dir;
}

/** Reads a folder into archive entries. Links, devices, sockets and pipes are refused with ARCHIVE_LINK/FOLDER_INVALID. */
export async function readFolder(dir: string): Promise<ArchiveEntry[]> {
  const top = await lstat(dir).catch(() => undefined);
  if (!top) throw new BackupError(`the memory folder ${dir} does not exist`, { code: "FOLDER_INVALID" });
  if (!top.isDirectory()) {
    throw new BackupError(`the memory folder ${dir} is not a folder (a link is not followed)`, {
      code: "FOLDER_INVALID",
    });
  }
  const entries: ArchiveEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const here = rel ? path.join(dir, rel) : dir;
    for (const d of await readdir(here, { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${d.name}` : d.name;
      if (d.isSymbolicLink()) {
        throw new BackupError(`${relPath} in the memory folder is a link: links are never followed or archived`, {
          code: "ARCHIVE_LINK",
        });
      }
      if (d.isDirectory()) {
        entries.push({ type: "dir", path: relPath });
        await walk(relPath);
      } else if (d.isFile()) {
        entries.push({ type: "file", path: relPath, data: await readFile(path.join(dir, relPath)) });
      } else {
        throw new BackupError(`${relPath} in the memory folder is neither a file nor a folder`, {
          code: "FOLDER_INVALID",
        });
      }
    }
  };
  await walk("");
  return entries;
}

/** True when `dir` does not exist or is an empty folder. */
export async function isEmptyOrAbsent(dir: string): Promise<boolean> {
  const s = await lstat(dir).catch(() => undefined);
  if (!s) return true;
  if (!s.isDirectory()) return false;
  return (await readdir(dir)).length === 0;
}

/**
 * Writes entries into a new staging folder next to `target` (0700 folders, 0600 files), reads every file back and
 * compares it with the archive. Returns the staging path; `commitStaged` moves it to `target`.
 */
export async function stageEntries(entries: readonly ArchiveEntry[], target: string): Promise<string> {
  const parent = path.dirname(path.resolve(target));
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const staging = path.join(parent, `.covenant-restore-${randomBytes(6).toString("hex")}`);
  await mkdir(staging, { mode: 0o700 });
  try {
    for (const e of entries) {
      const full = path.join(staging, ...e.path.split("/"));
      // Defence in depth: entries were checked when parsed, and the joined path must still be inside staging.
      if (!full.startsWith(staging + path.sep)) {
        throw new BackupError(`archive entry "${e.path}" leaves the target folder`, { code: "ARCHIVE_UNSAFE_PATH" });
      }
      if (e.type === "dir") {
        await mkdir(full, { recursive: true, mode: 0o700 });
      } else {
        await mkdir(path.dirname(full), { recursive: true, mode: 0o700 });
        await writeFile(full, e.data, { mode: 0o600, flag: "wx" });
      }
    }
    for (const e of entries) {
      if (e.type !== "file") continue;
      const back = await readFile(path.join(staging, ...e.path.split("/")));
      if (!back.equals(Buffer.from(e.data))) {
        throw new BackupError(`${e.path} does not read back as archived`, { code: "VERIFY_FAILED" });
      }
    }
    return staging;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Moves a verified staging folder to `target` (which must be absent or an empty folder). */
export async function commitStaged(staging: string, target: string): Promise<void> {
  if (!(await isEmptyOrAbsent(target))) {
    await rm(staging, { recursive: true, force: true });
    throw new BackupError(`${target} is not empty: a restore goes into an empty folder`, { code: "TARGET_NOT_EMPTY" });
  }
  await rmdir(target).catch(() => undefined);
  await rename(staging, target);
  await chmod(target, 0o700);
}
