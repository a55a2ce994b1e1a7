/**
 * Runs Debian's `docker-compose` (1.29, Python) to validate and resolve the compose files without a Docker
 * engine: `docker-compose config` checks the schema, interpolates variables, merges files and prints the
 * effective configuration, which the tests then inspect.
 */
import { execFile } from "node:child_process"
import { parse as parseYaml } from "yaml"
import { prodDir } from "./repo.js"

/** Result of one docker-compose run. */
export interface ComposeRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const installHint =
  "docker-compose is not installed. Install Debian's package (apt-get install docker-compose; scripts/setup.sh " +
  "does it): the prod tests validate prod/docker-compose*.yml with `docker-compose config`, which needs no Docker engine."

/**
 * Runs `docker-compose <args>` in prod/ with a minimal environment (so variables of the test process, such
 * as the REDIS_URL of the vitest global setup, cannot leak into interpolation) plus `env`.
 */
export const runCompose = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): Promise<ComposeRun> =>
  new Promise((resolve, reject) => {
    execFile(
      "docker-compose",
      [...args],
      {
        cwd: prodDir,
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/tmp", LANG: "C.UTF-8", ...env },
        timeout: 30_000,
        maxBuffer: 16 * 1024 * 1024
      },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === "ENOENT") return reject(new Error(installHint))
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      }
    )
  })

/** `docker-compose ... config` with .env.example as both the interpolation source and the containers' env file. */
export const composeConfig = async (files: ReadonlyArray<string>, options: { readonly profiles?: ReadonlyArray<string>; readonly env?: Readonly<Record<string, string>> } = {}) => {
  const args = ["--env-file", ".env.example", ...files.flatMap((f) => ["-f", f]), ...(options.profiles ?? []).flatMap((p) => ["--profile", p]), "config"]
  const run = await runCompose(args, { ENV_FILE: ".env.example", ...options.env })
  return { ...run, config: run.code === 0 ? (parseYaml(run.stdout) as Record<string, unknown>) : undefined }
}
