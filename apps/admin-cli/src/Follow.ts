/**
 * Following a task to its end (`tasks wait`): polls the scheduler on an Effect `Schedule` and reports every
 * change (state, phase, progress) to a callback, which draws a live progress bar on a terminal or prints
 * plain lines otherwise. Progress comes from the task when the scheduler records it, else from the
 * worker's `DATA_DIR/<task>/status.json`.
 */
import { Scheduler, type SchedulerError, Task } from "@nessus-mcp/scheduler"
import { Clock, Effect, Option, Schedule } from "effect"
import { readFile } from "node:fs/promises"
import * as path from "node:path"
import * as Views from "./Views.js"

/** What the follower saw at one poll. */
export interface Update {
  readonly task: Task.Task
  readonly progress: number | undefined
  /** Milliseconds since following started. */
  readonly elapsedMs: number
}

/** A running task's progress (0–100): recorded on the task, else from the worker's status.json; else `undefined`. */
export const progressOf = (task: Task.Task, dataDir: string): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    if (task.state === "completed") return 100
    if (task.state !== "running") return undefined
    const recorded = Views.recordedProgress(task)
    if (recorded !== undefined) return recorded
    const text = yield* Effect.option(Effect.tryPromise(() => readFile(path.join(dataDir, task.id, "status.json"), "utf8")))
    if (Option.isNone(text)) return undefined
    try {
      const p = (JSON.parse(text.value) as { readonly progress?: unknown }).progress
      return typeof p === "number" && Number.isFinite(p) ? Math.min(100, Math.max(0, Math.round(p))) : undefined
    } catch {
      return undefined
    }
  })

const signature = (u: Update) => `${u.task.state}|${u.task.phase ?? ""}|${u.progress ?? ""}|${u.task.attempt}`

/**
 * Polls the task every `interval` until it reaches a terminal state and returns its final view.
 * `onChange` runs on the first poll and whenever state, phase, progress or attempt changed; `onTick`
 * on every poll (to refresh the elapsed time of a live display).
 */
export const follow = (
  taskId: string,
  options: {
    readonly interval: number
    readonly dataDir: string
    readonly onChange: (update: Update) => Effect.Effect<void>
    readonly onTick?: ((update: Update) => Effect.Effect<void>) | undefined
  }
): Effect.Effect<Update, SchedulerError.SchedulerError, Scheduler.Scheduler> =>
  Effect.gen(function*() {
    const scheduler = yield* Scheduler.Scheduler
    const started = yield* Clock.currentTimeMillis
    let last = ""
    const poll = Effect.gen(function*() {
      const task = yield* scheduler.get(taskId)
      const update: Update = { task, progress: yield* progressOf(task, options.dataDir), elapsedMs: (yield* Clock.currentTimeMillis) - started }
      const sig = signature(update)
      if (sig !== last) {
        last = sig
        yield* options.onChange(update)
      }
      if (options.onTick !== undefined) yield* options.onTick(update)
      return update
    })
    return yield* poll.pipe(Effect.repeat({ schedule: Schedule.spaced(options.interval), until: (u) => Task.isTerminal(u.task.state) }))
  })

/** `[██████░░░░░░]` for a percentage (empty when unknown). */
export const bar = (progress: number | undefined, width: number): string => {
  const w = Math.max(5, width)
  const filled = progress === undefined ? 0 : Math.round((Math.min(100, Math.max(0, progress)) / 100) * w)
  return `[${"█".repeat(filled)}${"░".repeat(w - filled)}]`
}

/** The words of a state: `running · polling`, `queued (attempt 2)`. */
export const describe = (t: Task.Task): string =>
  `${t.state}${t.state === "running" && t.phase !== undefined ? ` · ${t.phase}` : ""}${t.attempt > 1 ? ` (attempt ${t.attempt})` : ""}`

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000)
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`
}

/** One plain line for logs and pipes: `00:12 t_… running polling 40%`. */
export const plainLine = (u: Update): string =>
  [clock(u.elapsedMs), u.task.id, u.task.state, u.task.phase !== undefined && u.task.state === "running" ? u.task.phase : "", u.progress !== undefined && u.task.state === "running" ? `${u.progress}%` : "", u.task.attempt > 1 ? `attempt ${u.task.attempt}` : ""]
    .filter((s) => s !== "")
    .join(" ")

/** The live line drawn on a terminal (fits `columns`). */
export const liveLine = (u: Update, columns: number): string => {
  const pct = u.progress === undefined ? "  -%" : `${String(u.progress).padStart(3)}%`
  const words = describe(u.task)
  const fixed = `  ${pct}  ${words}  ${clock(u.elapsedMs)}`
  const width = Math.min(40, Math.max(10, columns - fixed.length - 4))
  return `${bar(u.progress, width)}${fixed}`.slice(0, Math.max(20, columns - 1))
}
