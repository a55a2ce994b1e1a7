/**
 * TLS trust for Nessus scanners, applied where the transport is built. Nessus ships a self-signed
 * certificate; verification stays ON by default, and this module turns one of three explicit choices
 * into the `connect` option of an Undici `Agent` (what `NodeHttpClient.layerUndiciOptions` takes):
 *
 * - `ca`: trust these PEM certificates (the scanner's CA or its self-signed certificate); chain and
 *   host name are verified as usual.
 * - `fingerprint256`: accept exactly the certificate with this SHA-256 fingerprint (as `openssl x509
 *   -fingerprint -sha256` prints it, colons optional); chain and host name are not checked, the pin is
 *   the identity.
 * - `insecure: true`: accept any certificate. Only for throwaway tests.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { NessusClient, NessusTls } from "@nessus-mcp/nessus-client"
 *
 * const HttpLive = Layer.unwrap(
 *   NessusTls.undiciConnect({ fingerprint256: "AB:CD:…" }).pipe(
 *     Effect.map((connect) => NodeHttpClient.layerUndiciOptions({ connect }))
 *   )
 * )
 * ```
 */
import { Effect } from "effect"
import { timingSafeEqual, X509Certificate } from "node:crypto"
import * as net from "node:net"
import * as tls from "node:tls"
import { NessusError } from "./NessusError.js"

/**
 * How to trust the scanner's certificate. Give at most one of `fingerprint256` and `insecure`; `ca`
 * may accompany neither or be used alone.
 *
 * @category models
 */
export interface Options {
  /** PEM certificate(s) to trust instead of the system roots. */
  readonly ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array> | undefined
  /** SHA-256 fingerprint of the one certificate to accept: 64 hex digits, colons and case ignored. */
  readonly fingerprint256?: string | undefined
  /** Accept any certificate (no verification at all). */
  readonly insecure?: boolean | undefined
  /** Server name to send (SNI) and verify when it differs from the URL's host. */
  readonly servername?: string | undefined
}

/**
 * Undici's connector options as far as this module reads them.
 *
 * @category models
 */
export interface ConnectorOptions {
  readonly hostname: string
  readonly protocol: string
  readonly port: string
  readonly servername?: string | undefined
}

/**
 * Undici's connector callback.
 *
 * @category models
 */
export type ConnectorCallback = (...args: [null, net.Socket | tls.TLSSocket] | [Error, null]) => void

/**
 * A custom Undici connector (used for fingerprint pinning).
 *
 * @category models
 */
export type Connector = (options: ConnectorOptions, callback: ConnectorCallback) => void

/**
 * Value for the `connect` option of an Undici `Agent`: plain TLS options, or a connector function.
 *
 * @category models
 */
export type UndiciConnect =
  | { readonly ca?: Array<string | Buffer>; readonly rejectUnauthorized: boolean; readonly servername?: string }
  | Connector

const invalid = (detail: string) => new NessusError({ reason: "InvalidRequest", operation: "tls.options", detail })

/**
 * Normalises a SHA-256 fingerprint to upper-case hex without separators, or fails if it is not 64 hex
 * digits.
 *
 * @category constructors
 */
export const normalizeFingerprint = (input: string): Effect.Effect<string, NessusError> => {
  const hex = input.replace(/^sha256[:=/]?/i, "").replace(/[:\s-]/g, "").toUpperCase()
  return /^[0-9A-F]{64}$/.test(hex)
    ? Effect.succeed(hex)
    : Effect.fail(invalid(`fingerprint256 must be 64 hex digits (colons allowed), got ${input.length} characters`))
}

const toCaList = (ca: NonNullable<Options["ca"]>): Array<string | Buffer> =>
  (typeof ca === "string" || ca instanceof Uint8Array ? [ca] : [...ca]).map((c) =>
    typeof c === "string" ? c : Buffer.from(c)
  )

const stripBrackets = (host: string) => host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host

const CONNECT_TIMEOUT_MS = 10_000

const pinnedConnector = (fingerprint: string, options: Options): Connector => {
  const expected = Buffer.from(fingerprint, "hex")
  return (connect, callback) => {
    const host = stripBrackets(connect.hostname)
    let settled = false
    const settle = (...args: [null, net.Socket] | [Error, null]) => {
      if (settled) return
      settled = true
      callback(...args)
    }
    if (connect.protocol !== "https:") {
      const socket = net.connect({ host, port: Number(connect.port) || 80 })
      socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error("connect timeout")))
      socket.once("connect", () => {
        socket.setTimeout(0)
        socket.setKeepAlive(true, 60_000)
        settle(null, socket)
      })
      socket.once("error", (error) => settle(error, null))
      return
    }
    const servername = options.servername ?? connect.servername ?? (net.isIP(host) === 0 ? host : undefined)
    const socket = tls.connect({
      host,
      port: Number(connect.port) || 443,
      ...(servername !== undefined ? { servername } : {}),
      ...(options.ca !== undefined ? { ca: toCaList(options.ca) } : {}),
      // The pin replaces chain and host name verification: Nessus certificates are self-signed.
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"]
    })
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error("TLS connect timeout")))
    socket.once("secureConnect", () => {
      socket.setTimeout(0)
      socket.setKeepAlive(true, 60_000)
      const actual = Buffer.from((socket.getPeerCertificate().fingerprint256 ?? "").replace(/:/g, ""), "hex")
      if (actual.length === expected.length && timingSafeEqual(actual, expected)) {
        settle(null, socket)
      } else {
        const error = Object.assign(
          new Error(`certificate SHA-256 fingerprint does not match the pinned one`),
          { code: "ERR_NESSUS_TLS_PIN_MISMATCH" }
        )
        socket.destroy()
        settle(error, null)
      }
    })
    socket.once("error", (error) => settle(error, null))
  }
}

/**
 * Builds the `connect` option of an Undici `Agent` for these TLS choices, failing with
 * `InvalidRequest` on a malformed fingerprint or contradictory options.
 *
 * @category constructors
 */
export const undiciConnect = (options: Options = {}): Effect.Effect<UndiciConnect, NessusError> =>
  Effect.gen(function*() {
    if (options.insecure === true && options.fingerprint256 !== undefined) {
      return yield* invalid("give either insecure or fingerprint256, not both")
    }
    if (options.fingerprint256 !== undefined) {
      const fingerprint = yield* normalizeFingerprint(options.fingerprint256)
      return pinnedConnector(fingerprint, options)
    }
    return {
      rejectUnauthorized: options.insecure !== true,
      ...(options.ca !== undefined ? { ca: toCaList(options.ca) } : {}),
      ...(options.servername !== undefined ? { servername: options.servername } : {})
    }
  })

/**
 * Reads the SHA-256 fingerprint of a PEM certificate (what to pin), upper-case hex with colons.
 *
 * @category accessors
 */
export const fingerprintOfPem = (pem: string): string => new X509Certificate(pem).fingerprint256
