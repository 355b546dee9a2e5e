import { type FSWatcher, watch } from "node:fs";

/*
 * Watch mode: a change anywhere in an agent's folder schedules one backup once the folder has been quiet for
 * `debounceMs` (an agent writing many files at the end of a wake triggers one backup, not one per file).
 */

export type FolderWatch = { close(): void; readonly triggers: number };

export function watchFolder(dir: string, debounceMs: number, onSettled: () => void | Promise<void>): FolderWatch {
  let timer: NodeJS.Timeout | undefined;
  let triggers = 0;
  let running = false;
  let again = false;
  const fire = async () => {
    timer = undefined;
    if (running) {
      again = true;
      return;
    }
    running = true;
    triggers++;
    try {
      await onSettled();
    } finally {
      running = false;
      if (again) {
        again = false;
        timer = setTimeout(fire, debounceMs);
      }
    }
  };
  const watcher: FSWatcher = watch(dir, { recursive: true }, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  });
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
    get triggers() {
      return triggers;
    },
  };
}
