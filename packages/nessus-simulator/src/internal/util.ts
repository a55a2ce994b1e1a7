import { randomBytes, randomUUID } from "node:crypto"

/** Escapes text for an XML text node or attribute value (Nessus escapes `'` as `&apos;` too). */
export const escapeXml = (s: string): string =>
  /[&<>"']/.test(s)
    ? s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(
      /'/g,
      "&apos;"
    )
    : s

/** Reverses the five predefined entities and numeric character references. */
export const unescapeXml = (s: string): string =>
  s.indexOf("&") === -1 ? s : s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    switch (e) {
      case "amp":
        return "&"
      case "lt":
        return "<"
      case "gt":
        return ">"
      case "quot":
        return "\""
      case "apos":
        return "'"
      default:
        return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
    }
  })

/** mulberry32: tiny, fast, seedable; good enough to pick findings reproducibly. */
export const rng = (seed: number): () => number => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Mixes a seed and an index into a new 32-bit seed, so each host's choices are independent of the others. */
export const mixSeed = (seed: number, index: number): number => {
  let h = (seed ^ 0x9e3779b9) >>> 0
  h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

/** `n` random bytes as lower-case hex (session tokens are 48 hex, API keys and export tokens 64). */
export const hex = (bytes: number): string => randomBytes(bytes).toString("hex")

/** A random RFC 4122 UUID. */
export const uuid = (): string => randomUUID()

/** Seconds since the epoch, as Nessus reports timestamps. */
export const epochSeconds = (ms: number = Date.now()): number => Math.floor(ms / 1000)

/** `2025/11/7 13:25 UTC`: the 19506 "Scan Start Date" format (month and day not zero-padded). */
export const scanDate = (ms: number): string => {
  const d = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${d.getUTCFullYear()}/${d.getUTCMonth() + 1}/${d.getUTCDate()} ${pad(d.getUTCHours())}:${
    pad(d.getUTCMinutes())
  } UTC`
}

/** `Fri Nov  7 13:28:09 2025`: the HOST_START / HOST_END tag format (ctime-like, UTC here). */
export const ctime = (ms: number): string => {
  const d = new Date(ms)
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${
    pad(d.getUTCHours())
  }:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`
}
