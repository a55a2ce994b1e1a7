/**
 * TLS against the simulator over HTTPS with certificates made by the `openssl` CLI: a CA-signed server
 * certificate trusted through `ca`, a self-signed (Nessus-like) one accepted only through its pinned
 * fingerprint, and the default refusal of both.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NessusClient from "../src/NessusClient.js"
import { NessusError } from "../src/NessusError.js"
import * as NessusTls from "../src/NessusTls.js"
import { fastRetry, simulator } from "./support.js"

interface Pki {
  readonly caPem: string
  readonly serverPem: string
  readonly serverKey: string
  readonly selfPem: string
  readonly selfKey: string
}

const makePki = (): Pki => {
  const dir = mkdtempSync(join(tmpdir(), "nessus-tls-"))
  try {
    const ssl = (...args: Array<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Nessus MCP test CA")
    ssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    ssl(
      "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
      "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"
    )
    // Like Nessus's own certificate: self-signed, with a name that does not match 127.0.0.1.
    ssl("req", "-x509", ...ec, "-keyout", "self.key", "-out", "self.pem", "-days", "2", "-subj", "/CN=nessus-scanner")
    const read = (f: string) => readFileSync(join(dir, f), "utf8")
    return {
      caPem: read("ca.pem"),
      serverPem: read("server.pem"),
      serverKey: read("server.key"),
      selfPem: read("self.pem"),
      selfKey: read("self.key")
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const pki = makePki()

const client = (url: string) =>
  NessusClient.make({ url, auth: { mode: "session", username: "nessus", password: Redacted.make("nessus") }, retry: fastRetry })

const withTls = (options: NessusTls.Options) =>
  Layer.unwrap(Effect.map(NessusTls.undiciConnect(options), (connect) => NodeHttpClient.layerUndiciOptions({ connect })))

const failure = <A>(exit: Exit.Exit<A, NessusError>): NessusError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = Cause.squash(exit.cause)
  if (!(error instanceof NessusError)) throw new Error(`not a NessusError: ${String(error)}`)
  return error
}

describe("NessusTls", () => {
  it.effect("refuses a CA-signed certificate it was not told to trust, by default", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ tls: { cert: pki.serverPem, key: pki.serverKey } })
      assert.match(sim.scanners[0]!.url, /^https:/)
      const nessus = yield* client(sim.scanners[0]!.url)
      const error = failure(yield* Effect.exit(nessus.serverStatus))
      assert.strictEqual(error.reason, "Transport")
      assert.isDefined(error.code)
      assert.isFalse(error.isTransient)
      assert.include(error.message, "fingerprint256")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("refuses a self-signed certificate by default", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ tls: { cert: pki.selfPem, key: pki.selfKey } })
      const nessus = yield* client(sim.scanners[0]!.url)
      const error = failure(yield* Effect.exit(nessus.listScans()))
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.code, "DEPTH_ZERO_SELF_SIGNED_CERT")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("trusts the server through a CA bundle (chain and IP checked)", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ tls: { cert: pki.serverPem, key: pki.serverKey } })
      const nessus = yield* client(sim.scanners[0]!.url)
      assert.strictEqual((yield* nessus.serverStatus).status, "ready")
      const scan = yield* nessus.createScan({ name: "over-tls", targets: "10.0.0.5" })
      assert.isAbove(scan.id, 0)
    }).pipe(Effect.provide(withTls({ ca: pki.caPem }))))

  it.effect("a CA bundle does not make a different (self-signed) server trusted", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ tls: { cert: pki.selfPem, key: pki.selfKey } })
      const nessus = yield* client(sim.scanners[0]!.url)
      const error = failure(yield* Effect.exit(nessus.serverStatus))
      assert.strictEqual(error.reason, "Transport")
    }).pipe(Effect.provide(withTls({ ca: pki.caPem }))))

  it.effect("accepts the self-signed certificate whose SHA-256 fingerprint is pinned", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ tls: { cert: pki.selfPem, key: pki.selfKey } })
      const nessus = yield* client(sim.scanners[0]!.url)
      assert.strictEqual((yield* nessus.serverStatus).status, "ready")
      yield* nessus.createScan({ name: "pinned", targets: "10.0.0.5" })
      assert.strictEqual((yield* nessus.listScans()).length, 1)
    }).pipe(Effect.provide(withTls({ fingerprint256: NessusTls.fingerprintOfPem(pki.selfPem) }))))

  it.effect("refuses a certificate whose fingerprint differs from the pin", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ tls: { cert: pki.serverPem, key: pki.serverKey } })
      const nessus = yield* client(sim.scanners[0]!.url)
      const error = failure(yield* Effect.exit(nessus.serverStatus))
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.code, "ERR_NESSUS_TLS_PIN_MISMATCH")
      assert.isFalse(error.isTransient)
    }).pipe(
      Effect.provide(withTls({ fingerprint256: NessusTls.fingerprintOfPem(pki.selfPem).replace(/:/g, "").toLowerCase() }))
    ))

  it.effect("insecure: true accepts any certificate, only when asked", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ tls: { cert: pki.selfPem, key: pki.selfKey } })
      const nessus = yield* client(sim.scanners[0]!.url)
      assert.strictEqual((yield* nessus.serverStatus).status, "ready")
    }).pipe(Effect.provide(withTls({ insecure: true }))))

  it.effect("malformed or contradictory options are InvalidRequest", () =>
    Effect.gen(function*() {
      const short = failure(yield* Effect.exit(NessusTls.undiciConnect({ fingerprint256: "AB:CD" })))
      assert.strictEqual(short.reason, "InvalidRequest")
      const both = failure(
        yield* Effect.exit(NessusTls.undiciConnect({ insecure: true, fingerprint256: NessusTls.fingerprintOfPem(pki.selfPem) }))
      )
      assert.strictEqual(both.reason, "InvalidRequest")
      const normalized = yield* NessusTls.normalizeFingerprint(`sha256:${"ab".repeat(32)}`)
      assert.strictEqual(normalized, "AB".repeat(32))
    }))
})
