// npm run bench [-- --quick] [--only restart,control,scale,crash,interpreter] [--docs]: every
// contender in one run on this machine; prints a markdown table of medians, p95 and ratios, writes
// every sample to bench/results/latest.json, and with --docs puts the table in docs/performance.md
// (between its bench:begin and bench:end markers; --readme, the flag's old name, does the same).
// README.md's "Performance" section holds a few headline rows copied from that table by hand, with
// the run's date: this program never writes README.md, so the headline stays as chosen; after a
// full run that changes them, copy the rows again.
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { installContenders } from "./install.js"
import { interpreterFigures } from "./interpreter.js"
import { markdownTable, type Row } from "./results.js"
import { killOwned, killOwnedSync, repoRoot, run, scratch } from "./support.js"
import { supervisorFigures } from "./supervisors.js"

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const updateDocs = args.includes("--docs") || args.includes("--readme")
const only = args.includes("--only") ? (args[args.indexOf("--only") + 1] ?? "").split(",") : []
const log = (line: string) => process.stderr.write(`bench: ${line}\n`)

process.on("exit", killOwnedSync)
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process the benchmark started`)
    void killOwned().finally(() => process.exit(130))
  })
}

const machine = async () => {
  const cpu = Os.cpus()
  const load = Os.loadavg().map((l) => l.toFixed(2)).join(", ")
  const debian = Fs.existsSync("/etc/debian_version") ? `Debian ${Fs.readFileSync("/etc/debian_version", "utf8").trim()}` : Os.type()
  const docker = await run("docker", ["version", "--format", "{{.Server.Version}}"]).catch(() => undefined)
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model ?? "?"}`,
    memoryGb: Math.round(Os.totalmem() / 2 ** 30),
    os: `${debian}, Linux ${Os.release()}`,
    node: process.version,
    docker: docker?.code === 0 ? docker.stdout.trim() : "none",
    load
  }
}

const main = async () => {
  const started = Date.now()
  const before = await machine()
  log(`${quick ? "quick" : "full"} run on ${before.cpu}, load ${before.load}`)
  // the previous run's configs, reports and copied files
  Fs.rmSync(Path.join(scratch, "runs"), { recursive: true, force: true })
  const versions = await installContenders(log)
  const rows: Array<Row> = []
  const failures: Array<string> = []
  const section = async (name: string, f: () => Promise<ReadonlyArray<Row>>) => {
    try {
      rows.push(...await f())
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`)
      log(`${name} failed: ${error instanceof Error ? error.stack : String(error)}`)
    } finally {
      await killOwned()
    }
  }
  const supervisorGroups = only.filter((o) => o !== "interpreter")
  if (only.length === 0 || supervisorGroups.length > 0) await section("supervisors", () => supervisorFigures({ quick, only: supervisorGroups, log }))
  if (only.length === 0 || only.includes("interpreter")) await section("interpreter", () => interpreterFigures({ quick, only, log }))
  const after = await machine()
  const minutes = ((Date.now() - started) / 60_000).toFixed(1)
  const header = [
    `Machine: ${after.cpu}, ${after.memoryGb} GiB, ${after.os}; Node.js ${after.node}; Docker ${after.docker}; ` +
    `supervisord ${versions.supervisord}; PM2 ${versions.pm2}.`,
    `Load average (1, 5, 15 min) at start ${before.load}, at end ${after.load}. ${quick ? "Quick" : "Full"} run, ${minutes} min, ${new Date().toISOString().slice(0, 10)}.`
  ].join("\n")
  // by figure number, keeping each figure's own order (sizes, contenders)
  const figureNumber = (row: Row) => Number.parseInt(row.figure, 10)
  const table = markdownTable([...rows].sort((a, b) => figureNumber(a) - figureNumber(b)))
  const resultsDir = Path.join(repoRoot, "bench/results")
  Fs.mkdirSync(resultsDir, { recursive: true })
  const file = Path.join(resultsDir, "latest.json")
  Fs.writeFileSync(file, JSON.stringify({ machine: { before, after }, versions, quick, failures, rows }, null, 2))
  process.stdout.write(`${header}\n\n${table}\n`)
  if (updateDocs && failures.length === 0) {
    const page = Path.join(repoRoot, "docs/performance.md")
    const text = Fs.readFileSync(page, "utf8")
    const begin = "<!-- bench:begin -->"
    const end = "<!-- bench:end -->"
    if (!text.includes(begin) || !text.includes(end)) throw new Error(`docs/performance.md has no ${begin} … ${end} block`)
    Fs.writeFileSync(page, `${text.slice(0, text.indexOf(begin) + begin.length)}\n${header}\n\n${table}\n${text.slice(text.indexOf(end))}`)
    log("docs/performance.md: table updated (README.md's headline rows are copied by hand)")
  }
  if (failures.length > 0) process.stdout.write(`\nFailed: ${failures.join("; ")}\n`)
  log(`every sample: ${Path.relative(process.cwd(), file)}`)
  if (failures.length > 0) process.exitCode = 1
}

main().catch((error) => {
  log(error instanceof Error ? error.stack ?? error.message : String(error))
  process.exitCode = 1
}).finally(() => killOwned())
