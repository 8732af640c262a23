// Fails (exit 1) when product code makes a synchronous call without saying why that is safe.
// Every `nameSync(` in src/, services/ and layers/ needs `sync-ok: <why>` in a comment on the same
// line or the line above: a blocking call on the event loop stops every client of the program (one
// FIFO opened with openSync froze the whole interpreter). Deliberate exceptions are start-up only
// (config, .env, claiming the socket path) or /proc, which lives in memory and cannot block.
// Names that compute without I/O (Schema's encode/decode, Effect's runSync, …) need no comment.
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "..")
const roots = ["src", "services", "layers"]

/** Synchronous by name, but no I/O: pure functions of their argument. */
const computeOnly = new Set([
  "encodeSync",
  "decodeSync",
  "encodeUnknownSync",
  "decodeUnknownSync",
  "validateSync",
  "formatErrorSync",
  "formatIssueSync",
  "runSync",
  "runSyncExit"
])

const sourceFiles = (dir) =>
  Fs.readdirSync(Path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.(ts|mts|tsx|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : []
  })

const offenders = []
for (const file of roots.flatMap(sourceFiles).sort()) {
  const lines = Fs.readFileSync(Path.join(root, file), "utf8").split("\n")
  lines.forEach((line, i) => {
    for (const [, name] of line.matchAll(/\b(\w+Sync)\(/g)) {
      if (computeOnly.has(name)) continue
      if (line.includes("sync-ok:") || (i > 0 && lines[i - 1].includes("sync-ok:"))) continue
      offenders.push(`${file}:${i + 1}: ${name}(…) without a "// sync-ok: <why>" comment: ${line.trim()}`)
    }
  })
}

if (offenders.length > 0) {
  console.error(offenders.join("\n"))
  console.error(
    `\n${offenders.length} synchronous call(s) in product code. Use node:fs/promises (or the callback API); ` +
      `keep one only where it cannot block a request (start-up, /proc) and say so with // sync-ok: <why>.`
  )
  process.exit(1)
}
console.log(`check-sync-io: no unexplained synchronous call in ${roots.join("/, ")}/`)
