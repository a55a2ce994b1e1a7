/**
 * Status → reason mapping and body decoding of single responses, for the answers the simulator has no
 * reason to produce (an HTML page instead of JSON, a 405, a 408).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { HttpClientRequest, HttpClientResponse } from "effect/http"
import * as Http from "../src/internal/http.js"
import * as NessusModel from "../src/NessusModel.js"

const target: Http.Target = { operation: "scans.list", method: "GET", path: "/scans" }
const respond = (body: string, status = 200, headers: Record<string, string> = {}) =>
  HttpClientResponse.fromWeb(HttpClientRequest.get("http://127.0.0.1/scans"), new Response(body, { status, headers }))

describe("http mapping", () => {
  it.effect("a non-JSON body is a Decode error that does not echo the body", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Http.decodeJson(target, NessusModel.ScanList)(respond("<html>secret page</html>")))
      assert.strictEqual(error.reason, "Decode")
      assert.notInclude(error.message, "secret page")
    }))

  it.effect("a wrong shape is a Decode error naming the path; sensitive bodies are not described", () =>
    Effect.gen(function*() {
      const shape = yield* Effect.flip(Http.decodeJson(target, NessusModel.ScanList)(respond(`{"scans":[{"id":"x"}]}`)))
      assert.strictEqual(shape.reason, "Decode")
      assert.include(shape.message, "scans")
      const token = yield* Effect.flip(
        Http.decodeJson(target, NessusModel.SessionToken, { sensitive: true })(respond(`{"token": 12345678}`))
      )
      assert.notInclude(token.message, "12345678")
    }))

  it.effect("error bodies give Nessus's message; statuses map to reasons; Retry-After is kept", () =>
    Effect.gen(function*() {
      const e412 = yield* Http.errorFromResponse(target, respond(`{"error":"API is not available"}`, 412))
      assert.strictEqual(e412.reason, "ScanApiUnavailable")
      assert.strictEqual(e412.nessusMessage, "API is not available")
      const e429 = yield* Http.errorFromResponse(target, respond("", 429, { "retry-after": "7" }))
      assert.strictEqual(e429.reason, "RateLimited")
      assert.strictEqual(e429.retryAfterMillis, 7000)
      const e405 = yield* Http.errorFromResponse(
        target,
        respond(`{"error": "The requested method is not allowed for this URL"}`, 405)
      )
      assert.strictEqual(e405.reason, "InvalidRequest")
      const e408 = yield* Http.errorFromResponse(target, respond("", 408))
      assert.strictEqual(e408.reason, "Timeout")
      const html = yield* Http.errorFromResponse(target, respond("<html>oops</html>", 500))
      assert.strictEqual(html.reason, "ServerError")
      assert.isUndefined(html.nessusMessage)
      assert.strictEqual(Http.label({ ...target, path: "/tokens/abcdef/download" }), "GET /tokens/<token>/download")
      const decoded = Schema.decodeUnknownSync(NessusModel.ErrorBody)({ error: "x" })
      assert.strictEqual(decoded.error, "x")
    }))
})
