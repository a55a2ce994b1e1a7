/**
 * Writes realistic `.nessus` v2 exports of any size (N hosts × M findings) in flat memory, and reports the
 * exact ground truth of what it wrote. The simulator's exports are produced by the same engine.
 *
 * @since 0.1.0
 */
import { open } from "node:fs/promises"
import { BufferPool, ExportWriter } from "./internal/engine.js"
import * as Internal from "./internal/generate.js"
import { SimulatorError } from "./SimulatorError.js"

/**
 * What happened when a scan tried its credentials on a host; decides plugin 19506's `Credentialed checks`
 * line and the evidence plugins:
 * - `none`: `no`;
 * - `success`: `yes, as '<user>' via ssh` (or `via SMB`) + 141118, 110095, 117887 (+ 12634, 22869 for ssh;
 *   10394 for SMB) and Local Security Checks findings;
 * - `failed`: `no` + 21745 and 104410;
 * - `escalationFailed`: `yes, as '<user>' via ssh` + 141118, 110385 (insufficient privilege) and 102094.
 *
 * @since 0.1.0
 */
export type CredentialOutcome = Internal.CredentialOutcome

/**
 * Options for {@link writeExport} and {@link stream}: `hosts` (count or names), `findingsPerHost` (ReportItems per
 * host, 19506 and evidence included; omitted = replay source hosts as they are), `seed`, `fixture`,
 * `credentials` (one outcome, a list cycled over hosts, or a function), and 19506/report labels.
 *
 * @since 0.1.0
 */
export type Options = Internal.Options

/**
 * Exact counts of a generated document (hosts, ReportItems, severities 0..4, credentialed hosts, outcomes, bytes).
 *
 * @since 0.1.0
 */
export type GroundTruth = Internal.GroundTruth

/**
 * A readable `.nessus` stream; `groundTruth` resolves when the last byte has been produced.
 *
 * @since 0.1.0
 */
export type ExportStream = Internal.ExportStream

/**
 * `n` host addresses 10.0.0.1, 10.0.0.2, ... (the generator's default names).
 *
 * @since 0.1.0
 */
export const hostNames = (n: number): Array<string> => Internal.hostNames(n)

/**
 * A streamed `.nessus` document (a Node `Readable`, also an `AsyncIterable<Buffer>`).
 *
 * @example
 * const s = Generator.stream({ hosts: 10, findingsPerHost: 50 })
 * for await (const chunk of s) sink.write(chunk)
 * console.log(await s.groundTruth)
 *
 * @since 0.1.0
 */
export const stream = (options: Options): ExportStream => Internal.streamEngine(Internal.engineOptions(options))

/**
 * Writes a `.nessus` document to `path` and returns its ground truth. Memory stays flat (one chunk at a time).
 *
 * @example
 * const truth = await Generator.writeExport("/tmp/big.nessus", { hosts: 2000, findingsPerHost: 100, seed: 7 })
 * // truth.findings === 200_000, truth.bytes ≈ 200 MB
 *
 * @since 0.1.0
 */
export const writeExport = async (path: string, options: Options): Promise<GroundTruth> => {
  const eo = Internal.engineOptions(options)
  const pool = new BufferPool(eo.chunkSize)
  const writer = new ExportWriter(eo, pool.alloc)
  let fh
  try {
    fh = await open(path, "w")
    let pending: Array<Buffer> = []
    let size = 0
    for (let chunk = writer.next(); chunk !== null; chunk = writer.next()) {
      pending.push(chunk)
      size += chunk.length
      // Batching a few chunks per write call halves syscall overhead on fast disks.
      if (size >= 4 << 20) {
        await fh.writev(pending)
        pending.forEach(pool.release)
        pending = []
        size = 0
      }
    }
    if (pending.length > 0) await fh.writev(pending)
  } catch (cause) {
    throw new SimulatorError({
      reason: "Io",
      message: `Cannot write the generated export to ${path}: ${(cause as Error).message}. Check the directory exists and is writable.`,
      cause
    })
  } finally {
    await fh?.close()
  }
  return Internal.freeze(writer.truth)
}
