/**
 * Syntax of scan targets as agents send them: one string of IPs, CIDRs, ranges and hostnames separated by
 * commas or whitespace. Only the shape is checked here, before anything is queued; the scheduler checks the
 * pool's `allowed_targets` and `max_targets`. Anything outside this grammar (shell or XML metacharacters,
 * URLs, ports, wildcards) is refused, because targets end up in Nessus policies and logs.
 */
import { isIPv4, isIPv6 } from "node:net"

/**
 * One parsed target.
 *
 * @category models
 */
export type Target =
  | { readonly kind: "ipv4" | "ipv6" | "hostname"; readonly value: string }
  | { readonly kind: "cidr"; readonly value: string; readonly prefix: number }
  | { readonly kind: "range"; readonly value: string }

/**
 * Upper bounds on the raw string and on the number of entries; pools usually set a lower `max_targets`.
 *
 * @category constants
 */
export const limits = { maxLength: 8192, maxEntries: 4096, maxEntryLength: 253 } as const

const hostnameLabel = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/

const ipv4ToNumber = (ip: string): number =>
  ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0)

const isHostname = (s: string): boolean => {
  if (s.length > limits.maxEntryLength) return false
  const name = s.endsWith(".") ? s.slice(0, -1) : s
  const labels = name.split(".")
  // all-numeric names are malformed IPv4 addresses, never hostnames
  if (labels.every((label) => /^\d+$/.test(label))) return false
  return labels.every((label) => hostnameLabel.test(label))
}

const parseRange = (s: string): boolean => {
  const dash = s.indexOf("-")
  const start = s.slice(0, dash)
  const end = s.slice(dash + 1)
  if (!isIPv4(start)) return false
  if (isIPv4(end)) return ipv4ToNumber(start) <= ipv4ToNumber(end)
  if (!/^\d{1,3}$/.test(end)) return false
  const last = Number(end)
  return last <= 255 && last >= Number(start.split(".")[3])
}

/**
 * Parses one entry, or says why it is not a target.
 *
 * @category parsing
 */
export const parseOne = (entry: string): Target | string => {
  if (entry.length > limits.maxEntryLength) return `"${entry.slice(0, 40)}…" is longer than ${limits.maxEntryLength} characters`
  if (isIPv4(entry)) return { kind: "ipv4", value: entry }
  if (isIPv6(entry)) return { kind: "ipv6", value: entry }
  const slash = entry.indexOf("/")
  if (slash > 0) {
    const address = entry.slice(0, slash)
    const prefixText = entry.slice(slash + 1)
    const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1
    if (max > 0 && /^\d{1,3}$/.test(prefixText) && Number(prefixText) <= max) {
      return { kind: "cidr", value: entry, prefix: Number(prefixText) }
    }
    return `"${entry}" is not a valid CIDR (use e.g. 10.0.0.0/24 or 2001:db8::/64)`
  }
  if (/^[\d.]+-[\d.]+$/.test(entry)) {
    return parseRange(entry)
      ? { kind: "range", value: entry }
      : `"${entry}" is not a valid IPv4 range (use e.g. 10.0.0.1-10.0.0.20 or 10.0.0.1-20, start before end)`
  }
  if (isHostname(entry)) return { kind: "hostname", value: entry.toLowerCase() }
  return `"${entry}" is not an IP address, CIDR, IPv4 range or hostname`
}

/**
 * Splits and parses a target list, or returns the first problem as a sentence naming the bad entry.
 *
 * @category parsing
 */
export const parse = (input: string): ReadonlyArray<Target> | string => {
  if (input.length > limits.maxLength) return `the target list is longer than ${limits.maxLength} characters`
  const entries = input.split(/[\s,]+/).filter((entry) => entry.length > 0)
  if (entries.length === 0) return "no target given (send e.g. \"192.0.2.10, 198.51.100.0/28, host.example.com\")"
  if (entries.length > limits.maxEntries) return `more than ${limits.maxEntries} targets`
  const parsed: Array<Target> = []
  for (const entry of entries) {
    const target = parseOne(entry)
    if (typeof target === "string") return target
    parsed.push(target)
  }
  return parsed
}
