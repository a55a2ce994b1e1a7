#!/usr/bin/env node
// Build-time helper: links each "bin" of the deployed package.json (pnpm deploy output) into <dir>/.bin,
// so the image's ENTRYPOINT names the command (nessus-mcp, nessus-mcp-worker, nessus-admin) instead of a
// file path inside the app, and fails the build when the expected command is missing.
//   node link-bins.mjs <deploy dir> <expected bin name>
import { chmodSync, mkdirSync, readFileSync, symlinkSync } from "node:fs"
import { join, relative } from "node:path"

const [dir, expected] = process.argv.slice(2)
if (!dir || !expected) {
  console.error("usage: link-bins.mjs <deploy dir> <expected bin name>")
  process.exit(2)
}
const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
const bins = typeof pkg.bin === "string" ? { [pkg.name.replace(/^@[^/]+\//, "")]: pkg.bin } : (pkg.bin ?? {})
if (!(expected in bins)) {
  console.error(`link-bins: ${pkg.name} has no bin "${expected}" (bins: ${Object.keys(bins).join(", ") || "none"})`)
  process.exit(1)
}
const binDir = join(dir, ".bin")
mkdirSync(binDir, { recursive: true })
for (const [name, target] of Object.entries(bins)) {
  const file = join(dir, target)
  chmodSync(file, 0o755)
  symlinkSync(relative(binDir, file), join(binDir, name))
  console.log(`link-bins: ${name} -> ${target}`)
}
