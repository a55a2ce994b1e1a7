#!/usr/bin/env node
// Build-time helper: links the image's command, one "bin" of the deployed package.json (pnpm deploy
// output), into <dir>/.bin, so the ENTRYPOINT names the command (nessus-mcp, nessus-mcp-worker,
// nessus-admin) instead of a file path inside the app, and the build fails when the command is missing.
// Other bins are not linked: they may need development dependencies the deploy left out (e.g. the
// all-in-one launcher's simulator).
//   node link-bins.mjs <deploy dir> <bin name>
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs"
import { join, relative } from "node:path"

const [dir, expected] = process.argv.slice(2)
if (!dir || !expected) {
  console.error("usage: link-bins.mjs <deploy dir> <bin name>")
  process.exit(2)
}
const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
const bins = typeof pkg.bin === "string" ? { [pkg.name.replace(/^@[^/]+\//, "")]: pkg.bin } : (pkg.bin ?? {})
const target = bins[expected]
if (target === undefined) {
  console.error(`link-bins: ${pkg.name} has no bin "${expected}" (bins: ${Object.keys(bins).join(", ") || "none"})`)
  process.exit(1)
}
const file = join(dir, target)
if (!existsSync(file)) {
  console.error(`link-bins: bin "${expected}" points at ${target}, which the deployed package does not contain`)
  process.exit(1)
}
const binDir = join(dir, ".bin")
mkdirSync(binDir, { recursive: true })
chmodSync(file, 0o755)
symlinkSync(relative(binDir, file), join(binDir, expected))
console.log(`link-bins: ${expected} -> ${target}`)
