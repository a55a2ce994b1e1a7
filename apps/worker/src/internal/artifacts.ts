/**
 * The artifact layout of a task under DATA_DIR, shared by the worker (writer) and readers (the MCP
 * server): `<dataDir>/<taskId>/scan.nessus` (the export), `index/` (the findings index) and
 * `status.json` (progress while running; validation summary, authentication status and troubleshooting
 * once validated). Every file is written under a temporary name and renamed into place.
 */
import { Effect } from "effect"
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises"
import { join, resolve } from "node:path"

const TASK_ID = /^t_[A-Za-z0-9_-]{22}$/

export interface Paths {
  readonly dir: string
  readonly nessus: string
  readonly partial: string
  readonly index: string
  readonly status: string
}

/** The paths of a task's artifacts; refuses anything that is not a task id (no path traversal). */
export const pathsOf = (dataDir: string, taskId: string): Paths => {
  if (!TASK_ID.test(taskId)) throw new Error(`not a task id: ${taskId.slice(0, 40)}`)
  const dir = join(resolve(dataDir), taskId)
  return {
    dir,
    nessus: join(dir, "scan.nessus"),
    partial: join(dir, "scan.nessus.part"),
    index: join(dir, "index"),
    status: join(dir, "status.json")
  }
}

const describe = (cause: unknown) => (cause as NodeJS.ErrnoException)?.code ?? (cause instanceof Error ? cause.message : String(cause))

export class ArtifactError extends Error {
  readonly _tag = "ArtifactError"
}

/** Writes JSON atomically (temporary file, then rename). */
export const writeJsonAtomic = (path: string, value: unknown): Effect.Effect<void, ArtifactError> =>
  Effect.tryPromise({
    try: async () => {
      const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
      await writeFile(tmp, JSON.stringify(value, null, 2) + "\n")
      await rename(tmp, path)
    },
    catch: (cause) => new ArtifactError(`cannot write ${path} (${describe(cause)})`)
  })

export const ensureDir = (dir: string): Effect.Effect<void, ArtifactError> =>
  Effect.tryPromise({
    try: () => mkdir(dir, { recursive: true }).then(() => undefined),
    catch: (cause) => new ArtifactError(`cannot create ${dir} (${describe(cause)})`)
  })

export const renameFile = (from: string, to: string): Effect.Effect<void, ArtifactError> =>
  Effect.tryPromise({
    try: () => rename(from, to),
    catch: (cause) => new ArtifactError(`cannot rename ${from} to ${to} (${describe(cause)})`)
  })

export const removeDir = (dir: string): Effect.Effect<void, ArtifactError> =>
  Effect.tryPromise({
    try: () => rm(dir, { recursive: true, force: true }),
    catch: (cause) => new ArtifactError(`cannot delete ${dir} (${describe(cause)})`)
  })

/** Whether a non-empty regular file exists at `path`. */
export const nonEmptyFile = (path: string): Effect.Effect<boolean> =>
  Effect.promise(() => stat(path).then((s) => s.isFile() && s.size > 0, () => false))
