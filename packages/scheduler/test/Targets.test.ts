import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as Targets from "../src/Targets.js"

const ok = (input: string | ReadonlyArray<string>) => {
  const r = Targets.parse(input)
  if (Result.isFailure(r)) throw new Error(r.failure)
  return r.success
}
const bad = (input: string) => {
  const r = Targets.parse(input)
  if (Result.isSuccess(r)) throw new Error(`expected ${input} to be refused`)
  return r.failure
}
const allowed = (entries: ReadonlyArray<string>) =>
  entries.map((e) => {
    const r = Targets.parseOne(e, { allowWildcard: true })
    if (Result.isFailure(r)) throw new Error(r.failure)
    return r.success
  })

describe("Targets", () => {
  it("parses addresses, networks, ranges and hostnames into canonical text", () => {
    const t = ok("10.0.0.1, 10.0.0.7/24 10.0.1.5-20,10.0.2.1-10.0.2.3 2001:DB8::1 2001:db8:0:0::/64 ::ffff:192.0.2.1 Host.Example.org.")
    assert.deepStrictEqual(t.map((x) => `${x._tag}:${x.text}`), [
      "Address:10.0.0.1",
      "Network:10.0.0.0/24",
      "Range:10.0.1.5-10.0.1.20",
      "Range:10.0.2.1-10.0.2.3",
      "Address:2001:db8::1",
      "Network:2001:db8::/64",
      "Address:::ffff:c000:201",
      "Hostname:host.example.org"
    ])
    assert.strictEqual(Targets.size(t), 1n + 256n + 16n + 3n + 1n + 2n ** 64n + 1n + 1n)
    assert.deepStrictEqual(ok(["192.0.2.1", "192.0.2.1"]).length, 1)
  })

  it("refuses shell and XML metacharacters and malformed entries with a reason", () => {
    for (const input of ["10.0.0.1;id", "$(reboot)", "a`b`", "<host>", "x&y", "10.0.0.1|nc", "a'b", "\"q\"", "a\\b", "host\u0000"]) {
      assert.include(bad(input), "contains the character", input)
    }
    assert.include(bad("256.1.1.1"), "not a valid IPv4")
    assert.include(bad("10.0.0.1/33"), "prefix length")
    assert.include(bad("10.0.0.9-10.0.0.1"), "ends before it starts")
    assert.include(bad("10.0.0.1-2001:db8::1"), "not a range")
    assert.include(bad("2001:db8:::1"), "IPv6")
    assert.include(bad("-bad.example.org"), "hostname")
    assert.include(bad("*.example.org"), "wildcard")
    assert.include(bad(" , "), "no targets")
    assert.include(bad("01.2.3.4"), "IPv4")
  })

  it("checks containment in allowed_targets (IP union, hostnames by name or *.domain)", () => {
    const allow = allowed(["10.0.0.0/25", "10.0.0.128/25", "192.0.2.5", "scanme.example.org", "*.lab.example.org", "2001:db8::/32"])
    assert.deepStrictEqual(Targets.refused(ok("10.0.0.0/24, 10.0.0.3-10.0.0.200, 192.0.2.5, SCANME.example.org, a.lab.example.org, 2001:db8:1::/48"), allow), [])
    assert.deepStrictEqual(
      Targets.refused(ok("10.0.0.0/23, 192.0.2.6, other.example.org, lab.example.org, 2001:db9::1"), allow).map((t) => t.text),
      ["10.0.0.0/23", "192.0.2.6", "other.example.org", "lab.example.org", "2001:db9::1"]
    )
    assert.deepStrictEqual(Targets.refused(ok("10.0.0.1"), []).length, 1, "an empty allow-list refuses everything")
    const all = allowed(["0.0.0.0/0", "::/0"])
    assert.deepStrictEqual(Targets.refused(ok("1.2.3.4, ::1, 255.255.255.255/32"), all), [])
    assert.deepStrictEqual(Targets.refused(ok("host.example.org"), all).length, 1, "IP entries never allow hostnames")
  })

  it("matches list filters by overlap", () => {
    assert.isTrue(Targets.matches("10.0.0.5", ["10.0.0.0/24"]))
    assert.isTrue(Targets.matches("10.0.0.0/16", ["10.0.3.7"]))
    assert.isTrue(Targets.matches("10.0.0.10-10.0.0.12", ["10.0.0.12/30"]))
    assert.isTrue(Targets.matches("Host.Example.Org", ["host.example.org"]))
    assert.isTrue(Targets.matches("*.example.org", ["a.example.org"]))
    assert.isTrue(Targets.matches("2001:db8::5", ["2001:db8::/64"]))
    assert.isFalse(Targets.matches("10.0.1.0/24", ["10.0.0.0/24"]))
    assert.isFalse(Targets.matches("::ffff:10.0.0.1", ["10.0.0.1"]))
    assert.isFalse(Targets.matches("", ["10.0.0.1"]))
    assert.isFalse(Targets.matches("garbage;", ["10.0.0.1"]))
  })
})
