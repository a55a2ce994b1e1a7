/**
 * Scan credentials for authenticated scans. Either a named credential from the scanners file
 * (`credential: "linux-admin"`), or inline credentials sealed with AES-256-GCM before they are stored;
 * the key comes from the environment (`CREDENTIALS_KEY`, 32 bytes as base64 or 64 hex digits). Without
 * a key, inline credentials are refused with a message saying how to enable them.
 *
 * Secrets are `Redacted` from the moment they enter until the worker puts them in a Nessus request.
 *
 * @example
 * ```ts
 * import { Config, Effect } from "effect"
 * import { Credentials } from "@nessus-mcp/scheduler"
 *
 * // In an app: the key is optional; inline credentials work only when it is set.
 * const CredentialsLive = Credentials.layerConfig({ key: Config.option(Config.Redacted("CREDENTIALS_KEY")) })
 *
 * // Generate a key once: Credentials.generateKey() (or `openssl rand -base64 32`).
 * ```
 */
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import * as ScannerConfig from "./ScannerConfig.js"
import * as SchedulerError from "./SchedulerError.js"
import type * as Task from "./Task.js"

/**
 * A credential ready for a Nessus scan policy, resolved from a name or unsealed for the worker.
 *
 * @category models
 */
export interface ScanCredential {
  readonly source: "named" | "inline"
  readonly name: string | undefined
  readonly type: "ssh"
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly elevatePrivilegesWith: Task.Elevation
  readonly escalationAccount: string | undefined
  readonly escalationPassword: Redacted.Redacted<string> | undefined
}

/**
 * The credentials service.
 *
 * - `inlineEnabled`: whether a key is configured.
 * - `seal(credential, taskId)`: encrypts inline credentials, bound to the task id.
 * - `open(sealed, taskId)`: decrypts them (worker side).
 * - `named(name)`: a configured credential.
 *
 * @category services
 */
export class Credentials extends Context.Service<Credentials, {
  readonly inlineEnabled: boolean
  readonly seal: (credential: Task.InlineCredential, taskId: string) => Effect.Effect<string, SchedulerError.SchedulerError>
  readonly open: (sealed: string, taskId: string) => Effect.Effect<ScanCredential, SchedulerError.SchedulerError>
  readonly named: (name: string) => Effect.Effect<ScanCredential, SchedulerError.SchedulerError>
}>()("@nessus-mcp/scheduler/Credentials") {}

/**
 * A fresh random key, base64 (for `CREDENTIALS_KEY`).
 *
 * @category keys
 */
export const generateKey = (): string => randomBytes(32).toString("base64")

/**
 * Decodes a key given as 64 hex digits or base64/base64url of 32 bytes.
 *
 * @category keys
 */
export const decodeKey = (key: Redacted.Redacted<string>): Effect.Effect<Buffer, SchedulerError.SchedulerError> =>
  Effect.suspend(() => {
    const text = Redacted.value(key).trim()
    const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64")
    return bytes.length === 32
      ? Effect.succeed(bytes)
      : Effect.fail(
        SchedulerError.make(
          "invalid_input",
          `CREDENTIALS_KEY must be 32 bytes, given as 64 hex digits or base64 (it decodes to ${bytes.length} bytes); generate one with \`openssl rand -base64 32\`.`
        )
      )
  })

const disabled = SchedulerError.make(
  "inline_credentials_disabled",
  "Inline credentials are disabled because no encryption key is configured. Set CREDENTIALS_KEY to 32 random bytes (e.g. `openssl rand -base64 32`) on the MCP server and the worker, or use a named credential from the scanners file (credential: \"<name>\")."
)

const b64 = (b: Buffer) => b.toString("base64url")

interface Plain {
  readonly u: string
  readonly p: string
  readonly e: Task.Elevation
  readonly a?: string
  readonly ep?: string
}

/**
 * Builds the service from an optional key.
 *
 * @category constructors
 */
export const make = (options: { readonly key: Option.Option<Redacted.Redacted<string>> }): Effect.Effect<Credentials["Service"], SchedulerError.SchedulerError, ScannerConfig.ScannerConfig> =>
  Effect.gen(function*() {
    const config = yield* ScannerConfig.ScannerConfig
    const key = Option.isSome(options.key) ? yield* decodeKey(options.key.value) : undefined

    const seal = (credential: Task.InlineCredential, taskId: string) =>
      Effect.suspend(() => {
        if (key === undefined) return Effect.fail(disabled)
        const plain: Plain = {
          u: credential.username,
          p: Redacted.value(credential.password),
          e: credential.elevatePrivilegesWith ?? "Nothing",
          ...(credential.escalationAccount !== undefined ? { a: credential.escalationAccount } : {}),
          ...(credential.escalationPassword !== undefined ? { ep: Redacted.value(credential.escalationPassword) } : {})
        }
        const iv = randomBytes(12)
        const cipher = createCipheriv("aes-256-gcm", key, iv)
        cipher.setAAD(Buffer.from(taskId))
        const ct = Buffer.concat([cipher.update(JSON.stringify(plain), "utf8"), cipher.final()])
        return Effect.succeed(`v1.${b64(iv)}.${b64(ct)}.${b64(cipher.getAuthTag())}`)
      })

    const open = (sealed: string, taskId: string) =>
      Effect.suspend(() => {
        if (key === undefined) return Effect.fail(disabled)
        const [version, iv, ct, tag] = sealed.split(".")
        const fail = (why: string) =>
          Effect.fail(
            SchedulerError.make(
              "credentials_invalid",
              `The inline credentials of task ${taskId} cannot be decrypted (${why}). Was CREDENTIALS_KEY changed since submission? Resubmit the scan with its credentials.`,
              { taskId }
            )
          )
        if (version !== "v1" || iv === undefined || ct === undefined || tag === undefined) return fail("unknown format")
        try {
          const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"))
          decipher.setAAD(Buffer.from(taskId))
          decipher.setAuthTag(Buffer.from(tag, "base64url"))
          const plain = JSON.parse(Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8")) as Plain
          return Effect.succeed<ScanCredential>({
            source: "inline",
            name: undefined,
            type: "ssh",
            username: plain.u,
            password: Redacted.make(plain.p),
            elevatePrivilegesWith: plain.e,
            escalationAccount: plain.a,
            escalationPassword: plain.ep === undefined ? undefined : Redacted.make(plain.ep)
          })
        } catch {
          return fail("authentication tag mismatch")
        }
      })

    const named = (name: string) =>
      Effect.flatMap(config.current, (c) => {
        const found = ScannerConfig.credentialOf(c, name)
        return found === undefined
          ? Effect.fail(
            SchedulerError.make(
              "unknown_credential",
              `No credential named "${name}" in ${c.file}; configured: ${c.credentials.map((x) => x.name).join(", ") || "none"}. Add it under credentials: or send inline credentials.`
            )
          )
          : Effect.succeed<ScanCredential>({
            source: "named",
            name: found.name,
            type: found.type,
            username: found.username,
            password: found.password,
            elevatePrivilegesWith: found.elevatePrivilegesWith,
            escalationAccount: found.escalationAccount,
            escalationPassword: found.escalationPassword
          })
      })

    return Credentials.of({ inlineEnabled: key !== undefined, seal, open, named })
  })

/**
 * The service with an optional key.
 *
 * @category layers
 */
export const layer = (options: { readonly key?: Redacted.Redacted<string> | undefined } = {}): Layer.Layer<Credentials, SchedulerError.SchedulerError, ScannerConfig.ScannerConfig> =>
  Layer.effect(Credentials, make({ key: Option.fromUndefinedOr(options.key) }))

/**
 * The service with the key from configuration, e.g.
 * `{ key: Config.option(Config.Redacted("CREDENTIALS_KEY")) }`.
 *
 * @category layers
 */
export const layerConfig = (options: { readonly key: Config.Config<Option.Option<Redacted.Redacted<string>>> }): Layer.Layer<Credentials, SchedulerError.SchedulerError | Config.ConfigError, ScannerConfig.ScannerConfig> =>
  Layer.effect(Credentials, Effect.flatMap(options.key, (key) => make({ key })))
