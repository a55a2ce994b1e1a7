/**
 * The worker's implementation of the scheduler's housekeeping hooks (`Housekeeping.ScanJanitor`): the
 * actions that need Nessus or the artifact directory.
 *
 * - `stopScan`: stops a stale task's scan on its scanner (by its recorded id, else by its unique name)
 *   and waits until it left `stopping`; the scheduler then marks the task `timeout`.
 * - `deleteArtifacts`: removes `DATA_DIR/<task>/` of an expired task.
 * - `deleteFinishedScans`: on one scanner, deletes finished scans (completed, canceled, aborted, ...) that
 *   this system created, i.e. that sit in its folder AND carry one of its scan names
 *   (`nmcp-<task>-a<n>`), and that last changed before the retention cut-off. Nothing else is touched:
 *   not other folders, not other names, not running or never-launched scans.
 */
import { NessusModel } from "@nessus-mcp/nessus-client"
import { Housekeeping } from "@nessus-mcp/scheduler"
import { Duration, Effect, Layer, Option, Schedule } from "effect"
import * as Artifacts from "./internal/artifacts.js"
import { ScannerClients } from "./ScannerClients.js"

/**
 * Janitor settings: `dataDir` (artifact root), `folder` (default `nessus-mcp`; a scanner's own `folder`
 * wins), `stopTimeout` (wait for a stopped scan, default 60 s).
 *
 * @category models
 */
export interface Options {
  readonly dataDir: string
  readonly folder?: string | undefined
  readonly stopTimeout?: Duration.Input | undefined
}

/**
 * Builds the janitor on the scanner clients.
 *
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Housekeeping.ScanJanitor["Service"], never, ScannerClients> =>
  Effect.gen(function*() {
    const clients = yield* ScannerClients
    const folderName = (scanner: { readonly folder?: string | undefined }) => scanner.folder ?? options.folder ?? "nessus-mcp"

    const stopScan: Housekeeping.ScanJanitor["Service"]["stopScan"] = (task, scanner) =>
      Effect.gen(function*() {
        if (scanner === undefined) return yield* Effect.fail(new Error(`scanner ${task.instance} is no longer configured; stop scan ${task.scanName ?? "?"} by hand`))
        const client = yield* clients.get(scanner)
        let scanId = task.nessusScanId
        if (scanId === undefined && task.scanName !== undefined) {
          const found = yield* client.findScanByName(task.scanName)
          if (Option.isSome(found)) scanId = found.value.id
        }
        if (scanId === undefined) return
        const current = yield* client.scanProgress(scanId)
        if (!NessusModel.isActive(current.status)) return
        yield* client.stopScan(scanId).pipe(Effect.catchIf((e) => e.reason === "Conflict", () => Effect.void))
        yield* client.scanProgress(scanId).pipe(
          Effect.repeat({ schedule: Schedule.spaced("1 second"), until: (p) => !NessusModel.isActive(p.status) }),
          Effect.timeoutOption(options.stopTimeout ?? "60 seconds")
        )
      })

    const deleteArtifacts: Housekeeping.ScanJanitor["Service"]["deleteArtifacts"] = (task) =>
      Effect.suspend(() => Artifacts.removeDir(Artifacts.pathsOf(options.dataDir, task.id).dir))

    const deleteFinishedScans: Housekeeping.ScanJanitor["Service"]["deleteFinishedScans"] = (scanner, { before, dryRun, isOwnScanName }) =>
      Effect.gen(function*() {
        const client = yield* clients.get(scanner)
        const folder = (yield* client.listFolders).find((f) => f.name === folderName(scanner) && f.type !== "trash")
        if (folder === undefined) return 0
        const cutoff = Math.floor(before.getTime() / 1000)
        const old = (yield* client.listScans({ folderId: folder.id })).filter((s) =>
          s.folder_id === folder.id &&
          isOwnScanName(s.name) &&
          NessusModel.isTerminal(s.status) &&
          (s.last_modification_date ?? s.creation_date ?? Number.MAX_SAFE_INTEGER) < cutoff
        )
        if (dryRun) return old.length
        let deleted = 0
        for (const s of old) {
          const r = yield* Effect.result(client.deleteScan(s.id))
          if (r._tag === "Success") deleted++
          else yield* Effect.logWarning(`could not delete scan ${s.id} (${s.name}) on ${scanner.instanceId}: ${r.failure.message}`)
        }
        return deleted
      })

    return Housekeeping.ScanJanitor.of({ stopScan, deleteArtifacts, deleteFinishedScans })
  })

/**
 * The janitor as the scheduler's `ScanJanitor` service.
 *
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Housekeeping.ScanJanitor, never, ScannerClients> =>
  Layer.effect(Housekeeping.ScanJanitor, make(options))
