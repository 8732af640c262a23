// The code interpreter's settings: command-line arguments > environment > .env file > defaults.
// Every setting is one named variable, so an invalid value is refused with that name.
import { Duration, Effect, Either, Schema } from "effect"
import * as Path from "node:path"

export class SettingsInvalid extends Schema.TaggedError<SettingsInvalid>("mcp-code-interpreter/SettingsInvalid")("SettingsInvalid", {
  variable: Schema.String,
  problem: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `${this.variable}: ${this.problem}`
  }
}

type Decode<A> = (raw: string) => Either.Either<A, string>

const units: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

export const bytes: Decode<number> = (raw) => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)b?\s*$/i.exec(raw)
  return match && Number(match[1]) > 0
    ? Either.right(Math.round(Number(match[1]) * units[match[2]!.toLowerCase()]!))
    : Either.left(`expected a size like 512m or 2g, got "${raw}"`)
}

const integer = (min: number, max: number, what: string): Decode<number> => (raw) => {
  const n = Number(raw)
  return /^\s*\d+\s*$/.test(raw) && n >= min && n <= max
    ? Either.right(n)
    : Either.left(`expected ${what} from ${min} to ${max}, got "${raw}"`)
}

const seconds = (min: number, max: number): Decode<Duration.Duration> => (raw) =>
  Either.map(integer(min, max, "a whole number of seconds")(raw), Duration.seconds)

const positiveNumber: Decode<number> = (raw) => {
  const n = Number(raw)
  return raw.trim() !== "" && Number.isFinite(n) && n > 0 && n <= 1024
    ? Either.right(n)
    : Either.left(`expected a positive number of CPUs, got "${raw}"`)
}

const text: Decode<string> = (raw) => (raw.trim() === "" ? Either.left("must not be empty") : Either.right(raw.trim()))

const userSpec: Decode<{ readonly uid: number; readonly gid: number }> = (raw) => {
  const match = /^\s*(\d+)(?::(\d+))?\s*$/.exec(raw)
  if (!match) return Either.left(`expected a numeric uid or uid:gid, got "${raw}"`)
  const uid = Number(match[1])
  const gid = match[2] === undefined ? uid : Number(match[2])
  return uid === 0 ? Either.left("the sandbox must not run as root (uid 0)") : Either.right({ uid, gid })
}

const networkMode: Decode<string> = (raw) =>
  /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(raw.trim())
    ? Either.right(raw.trim())
    : Either.left(`expected a Docker network mode such as none or bridge, got "${raw}"`)

/** Empty means the engine's default runtime (no HostConfig.Runtime). */
const runtimeName: Decode<string | undefined> = (raw) =>
  raw.trim() === ""
    ? Either.right(undefined)
    : /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(raw.trim())
    ? Either.right(raw.trim())
    : Either.left(`expected the name of a runtime registered with the Docker engine, such as runc or runsc, got "${raw}"`)

const variable = <A, D extends string | undefined>(name: string, defaultValue: D, description: string, decode: Decode<A>) => ({
  name,
  defaultValue,
  description,
  decode
})

/** Every setting, in the order `--help` and the README list them. */
export const variables = {
  workdirIn: variable("WORKDIR_IN", undefined, "Host directory cp_in reads from (default: WORKDIR, then the current directory)", text),
  workdirOut: variable("WORKDIR_OUT", undefined, "Host directory cp_out writes to (default: WORKDIR, then the current directory)", text),
  workdir: variable("WORKDIR", undefined, "Default for WORKDIR_IN and WORKDIR_OUT", text),
  image: variable("DOCKER_IMAGE", "python:3.13-slim", "Image of the sandbox container; any image with python3 or python on PATH", text),
  sessionTtl: variable("PY_EXEC_SESSION_TTL", "600", "Seconds an idle session lives after its last use", seconds(1, 7 * 24 * 3600)),
  sessionMax: variable("PY_EXEC_SESSION_MAX", "32", "Sessions open at once; init is refused beyond this", integer(1, 1000, "a number of sessions")),
  timeout: variable("PY_EXEC_TIMEOUT", "60", "Seconds a run_code or run_file call may take before it is interrupted", seconds(1, 24 * 3600)),
  maxOutput: variable("PY_EXEC_MAX_OUTPUT", "100k", "Output kept per stream (stdout, stderr) and call; the rest is cut with a note", bytes),
  memory: variable("PY_EXEC_MEMORY", "1g", "Memory limit of the sandbox container (no swap)", bytes),
  cpus: variable("PY_EXEC_CPUS", "1", "CPU limit of the sandbox container", positiveNumber),
  pids: variable("PY_EXEC_PIDS", "512", "Process limit of the sandbox container", integer(16, 100_000, "a number of processes")),
  sessionProcs: variable("PY_EXEC_SESSION_PROCS", "128", "Process (and thread) limit of one session", integer(8, 100_000, "a number of processes")),
  network: variable("PY_EXEC_NETWORK", "none", "Docker network mode of the sandbox (none: no network at all)", networkMode),
  runtime: variable(
    "PY_EXEC_RUNTIME",
    undefined,
    "Docker runtime of the sandbox container, e.g. runsc for gVisor (default: the engine's default runtime, usually runc)",
    runtimeName
  ),
  user: variable("PY_EXEC_USER", "65534:65534", "Numeric uid:gid of the sandbox; sessions run as their own uids from PY_EXEC_SESSION_UID_BASE", userSpec),
  sessionUidBase: variable(
    "PY_EXEC_SESSION_UID_BASE",
    undefined,
    "Session n runs as uid base+n, so sessions cannot read each other's files (default: a block of 2000 uids picked per server above 100000, so servers on one host never share uids or process limits)",
    integer(1, 4_000_000_000, "a uid")
  ),
  workspaceSize: variable("PY_EXEC_WORKSPACE_SIZE", "2g", "Size of /workspace (a tmpfs: sessions and shared files)", bytes),
  tmpSize: variable("PY_EXEC_TMP_SIZE", "512m", "Size of /tmp in the sandbox (a tmpfs)", bytes),
  maxFile: variable("PY_EXEC_MAX_FILE_SIZE", "1g", "Largest file cp_in, cp_out or edit_file will transfer", bytes)
} as const

export type Key = keyof typeof variables

export interface Settings {
  readonly workdirIn: string
  readonly workdirOut: string
  readonly image: string
  readonly sessionTtl: Duration.Duration
  readonly sessionMax: number
  readonly timeout: Duration.Duration
  readonly maxOutput: number
  readonly memory: number
  readonly cpus: number
  readonly pids: number
  readonly sessionProcs: number
  readonly network: string
  /** undefined: the engine's default runtime. */
  readonly runtime: string | undefined
  readonly user: { readonly uid: number; readonly gid: number }
  readonly sessionUidBase: number | undefined
  readonly workspaceSize: number
  readonly tmpSize: number
  readonly maxFile: number
}

export interface Sources {
  /** Values given on the command line, by variable name. */
  readonly args: Readonly<Record<string, string | undefined>>
  readonly env: Readonly<Record<string, string | undefined>>
  /** Values from the .env file. */
  readonly dotenv: Readonly<Record<string, string | undefined>>
  readonly cwd: string
}

export const resolveSettings = (sources: Sources): Effect.Effect<Settings, SettingsInvalid> => {
  const given = (name: string): string | undefined => sources.args[name] ?? sources.env[name] ?? sources.dotenv[name]
  const decodeAs = <A>(name: string, decode: Decode<A>, value: string) =>
    Either.match(decode(value), {
      onLeft: (problem) => Effect.fail(new SettingsInvalid({ variable: name, problem })),
      onRight: (a) => Effect.succeed(a)
    })
  const setting = <A>(v: { readonly name: string; readonly defaultValue: string; readonly decode: Decode<A> }) =>
    Effect.suspend(() => decodeAs(v.name, v.decode, given(v.name) ?? v.defaultValue))
  const optional = <A>(v: { readonly name: string; readonly decode: Decode<A> }) =>
    Effect.suspend(() => {
      const value = given(v.name)
      return value === undefined ? Effect.succeed(undefined) : decodeAs(v.name, v.decode, value)
    })
  return Effect.gen(function*() {
    const base = Path.resolve(sources.cwd, (yield* optional(variables.workdir)) ?? ".")
    const workdirIn = yield* optional(variables.workdirIn)
    const workdirOut = yield* optional(variables.workdirOut)
    return {
      workdirIn: workdirIn === undefined ? base : Path.resolve(sources.cwd, workdirIn),
      workdirOut: workdirOut === undefined ? base : Path.resolve(sources.cwd, workdirOut),
      image: yield* setting(variables.image),
      sessionTtl: yield* setting(variables.sessionTtl),
      sessionMax: yield* setting(variables.sessionMax),
      timeout: yield* setting(variables.timeout),
      maxOutput: yield* setting(variables.maxOutput),
      memory: yield* setting(variables.memory),
      cpus: yield* setting(variables.cpus),
      pids: yield* setting(variables.pids),
      sessionProcs: yield* setting(variables.sessionProcs),
      network: yield* setting(variables.network),
      runtime: yield* optional(variables.runtime),
      user: yield* setting(variables.user),
      sessionUidBase: yield* optional(variables.sessionUidBase),
      workspaceSize: yield* setting(variables.workspaceSize),
      tmpSize: yield* setting(variables.tmpSize),
      maxFile: yield* setting(variables.maxFile)
    }
  })
}
