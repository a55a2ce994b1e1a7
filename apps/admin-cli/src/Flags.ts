/**
 * Flags shared by several commands: where the queue lives (`--redis-url`, `--prefix`), the scanners file
 * (`--config`), the artifact root (`--data-dir`), and a duration parser (`7d`, `12h`, `30m`, `500ms`).
 * Each flag also reads the environment variable the MCP server and the workers use.
 */
import { Flags, type Interfaces } from "@oclif/core"

const CONNECTION = "CONNECTION"

/** `--redis-url` / `REDIS_URL`: the Redis of the shared queue (may carry a password; never printed). */
export const redisUrl = Flags.string({
  summary: "Redis URL of the scan queue (redis://[:password@]host:port/db, rediss:// for TLS).",
  env: "REDIS_URL",
  helpGroup: CONNECTION
})

/** `--prefix` / `REDIS_KEY_PREFIX`: the scheduler's key prefix. */
export const prefix = Flags.string({
  summary: "Key prefix of the queue in Redis; the same REDIS_KEY_PREFIX as the MCP server and the workers.",
  env: "REDIS_KEY_PREFIX",
  default: "{nessus-mcp}:",
  helpGroup: CONNECTION
})

/** `--config` / `SCANNER_CONFIG`: the scanners file. */
export const config = Flags.string({
  char: "c",
  summary: "Path of scanners.yaml (default: config/scanners.yaml found upwards from the working directory).",
  env: "SCANNER_CONFIG",
  helpGroup: CONNECTION
})

/** `--data-dir` / `DATA_DIR`: the workers' artifact root. */
export const dataDir = Flags.string({
  summary: "Artifact root the workers write to (DATA_DIR/<task>/…), shared with the MCP server.",
  env: "DATA_DIR",
  default: "data",
  helpGroup: CONNECTION
})

/** The flags of every command that talks to the queue. */
export const queue = { "redis-url": redisUrl, prefix, config }

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000
}

/** Parses `7d`, `12h`, `30m`, `45s`, `500ms`, `2w`, `1.5h` or `7 days` into milliseconds; `undefined` if not a duration. */
export const parseDuration = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text)
  if (m === null) return undefined
  const unit = UNITS[(m[2] ?? "").toLowerCase()]
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit)
}

const durationFlag = Flags.custom<number>({
  parse: async (input) => {
    const ms = parseDuration(input)
    if (ms === undefined) throw new Error(`"${input}" is not a duration; use a number and a unit, e.g. 500ms, 30s, 10m, 12h, 7d or 2w.`)
    return ms
  }
})

/** What a duration flag can say about itself (its value is always milliseconds). */
export interface DurationOptions {
  readonly summary: string
  readonly char?: Interfaces.AlphabetLowercase | undefined
}

/**
 * A duration flag, parsed to milliseconds. Its `default` is written the way operators type it (`"24h"`),
 * so `--help` and the contract snapshot show `24h` rather than `86400000`; it is parsed once, here.
 */
export function duration(options: DurationOptions & { readonly default: string }): Interfaces.OptionFlag<number>
export function duration(options: DurationOptions): Interfaces.OptionFlag<number | undefined>
export function duration(
  options: DurationOptions & { readonly default?: string }
): Interfaces.OptionFlag<number> | Interfaces.OptionFlag<number | undefined> {
  const { char, default: text, summary } = options
  const common = { summary, ...(char !== undefined ? { char } : {}) }
  if (text === undefined) return durationFlag(common)
  const ms = parseDuration(text)
  if (ms === undefined) throw new Error(`duration flag default "${text}" is not a duration`)
  return durationFlag({ ...common, default: ms, defaultHelp: async () => text })
}
