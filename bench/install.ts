// The contenders install themselves: Debian's supervisor (apt-get, as root) and PM2 from npm into
// .bench/pm2. Nothing is installed globally beyond the Debian packages.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { pm2Version } from "./contenders.js"
import { isAlive, run, runOk, scratch, stopPid } from "./support.js"

const systemPidFile = "/var/run/supervisord.pid"

const readPid = (file: string) => {
  try {
    const pid = Number(Fs.readFileSync(file, "utf8").trim())
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

const hasDebianTools = async () =>
  Fs.existsSync("/usr/bin/supervisord") && Fs.existsSync("/usr/bin/supervisorctl") &&
  (await run("/usr/bin/perl", ["-MTime::HiRes=clock_gettime", "-e", "1"])).code === 0

export const installContenders = async (log: (line: string) => void) => {
  if (!(await hasDebianTools())) {
    if (process.getuid?.() !== 0) throw new Error("supervisor and perl are missing; run the benchmark as root (it installs them with apt-get) or install them yourself")
    log("installing Debian's supervisor and perl (apt-get)")
    const before = readPid(systemPidFile)
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
    await runOk("apt-get", ["update"], { env }, 600_000)
    await runOk("apt-get", ["install", "-y", "--no-install-recommends", "supervisor", "perl"], { env }, 600_000)
    // the package starts its system service where invoke-rc.d allows it: that one is not ours to keep
    const started = readPid(systemPidFile)
    if (started !== undefined && started !== before) {
      log(`stopping the system supervisord (pid ${started}) that the package started`)
      await stopPid(started)
    }
  }
  const pm2Dir = Path.join(scratch, "pm2")
  const installed = Path.join(pm2Dir, "node_modules/pm2/package.json")
  const version = Fs.existsSync(installed) ? (JSON.parse(Fs.readFileSync(installed, "utf8")) as { version: string }).version : undefined
  if (version !== pm2Version) {
    log(`installing pm2@${pm2Version} into ${pm2Dir} (npm)`)
    Fs.mkdirSync(pm2Dir, { recursive: true })
    Fs.writeFileSync(Path.join(pm2Dir, "package.json"), JSON.stringify({ name: "bench-pm2", private: true }))
    await runOk("npm", ["install", "--no-audit", "--no-fund", "--no-save", `pm2@${pm2Version}`], { cwd: pm2Dir }, 600_000)
  }
  const supervisorVersion = (await runOk("/usr/bin/supervisord", ["--version"])).stdout.trim()
  return { supervisord: supervisorVersion, pm2: pm2Version }
}
