// Watching desired-state files and directories for `linx run`.
import { type FSWatcher, readdirSync, statSync, watch } from "node:fs"
import { dirname, join } from "node:path"

/** The desired-state files of a directory (YAML or JSON), sorted. */
export function filesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /\.(ya?ml|json)$/.test(n) && !n.startsWith("."))
    .sort()
    .map((n) => join(dir, n))
}

export interface WatchHandlers {
  changed(path: string): void
  /** a new file in a watched directory */
  added(path: string): void
  /** a file gone from a watched directory */
  removed(path: string): void
}

/**
 * Watches the files, and the directories given: fs.watch on their directories catches
 * editors' renames and ConfigMap symlink swaps; a poll catches what watch misses. Events
 * are debounced so a file is read once its writer is done, not half-written. In a watched
 * directory, a new file starts a loop and a removed one stops its loop. Returns the stop.
 */
export function watchFiles(files: string[], dirs: string[], pollMs: number, on: WatchHandlers): () => void {
  const known = new Set(files)
  const pending = new Map<string, ReturnType<typeof setTimeout>>()
  const schedule = (p: string) => {
    clearTimeout(pending.get(p))
    pending.set(
      p,
      setTimeout(() => {
        pending.delete(p)
        on.changed(p)
      }, 50),
    )
  }
  const rescan = (dir: string) => {
    let now: string[]
    try {
      now = filesIn(dir)
    } catch {
      return // the directory is being replaced
    }
    for (const p of now)
      if (!known.has(p)) {
        known.add(p)
        on.added(p)
      }
    for (const p of [...known])
      if (dirname(p) === dir && !now.includes(p) && dirs.includes(dir)) {
        known.delete(p)
        on.removed(p)
      }
  }
  const watchers: FSWatcher[] = []
  for (const dir of new Set([...files.map((p) => dirname(p)), ...dirs])) {
    try {
      watchers.push(
        watch(dir, () => {
          if (dirs.includes(dir)) rescan(dir)
          for (const p of known) if (dirname(p) === dir) schedule(p)
        }),
      )
    } catch {
      // no inotify: the poll still works
    }
  }
  const mtimes = new Map<string, number>()
  const poll = setInterval(() => {
    for (const d of dirs) rescan(d)
    for (const p of known) {
      try {
        const m = statSync(p).mtimeMs
        if (mtimes.has(p) && m !== mtimes.get(p)) schedule(p)
        mtimes.set(p, m)
      } catch {
        // missing for a moment
      }
    }
  }, pollMs)
  for (const p of known) {
    try {
      mtimes.set(p, statSync(p).mtimeMs)
    } catch {}
  }
  return () => {
    clearInterval(poll)
    for (const t of pending.values()) clearTimeout(t)
    for (const w of watchers) w.close()
  }
}
