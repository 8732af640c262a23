// The MCP client form: {"mcpServers": {"name": {"command", "args", "env", "cwd", ...}}}, as written
// for Claude Desktop and in .mcp.json files, plus the manager's own optional per-server fields.
import { Duration, Effect, Either, ParseResult, Record, Schema } from "effect"
import * as Path from "node:path"
import { join } from "shlex"
import { Backoff, defaultStopTimeout, RestartPolicy, ServerName, ServerSpec, StopSignal } from "../ServerSpec.js"
import { ConfigInvalid } from "./ConfigInvalid.js"

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** One readable message for a schema, instead of one line per member of a union. */
const expecting = (description: string) => ({
  message: (issue: ParseResult.ParseIssue) => ({
    message: `expected ${description}, got ${JSON.stringify(issue.actual)}`,
    override: true
  })
})

/** A duration as a number of seconds (like systemd) or a string with a unit: "500ms", "10s", "2m". */
const ConfigDuration = Schema.transformOrFail(
  Schema.Union(Schema.Number, Schema.String).annotations({ identifier: "duration" }),
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (input, _, ast) => {
      if (typeof input === "number") {
        return Number.isFinite(input) && input >= 0
          ? ParseResult.succeed(Duration.millis(input * 1000))
          : ParseResult.fail(new ParseResult.Type(ast, input, "a duration must be a non-negative number of seconds"))
      }
      const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(input)
      return match
        ? ParseResult.succeed(Duration.millis(Number(match[1]) * units[match[2]!]!))
        : ParseResult.fail(
          new ParseResult.Type(ast, input, `expected a duration like "500ms", "10s", "2m" or a number of seconds, got ${JSON.stringify(input)}`)
        )
    },
    encode: (duration) => ParseResult.succeed(Duration.toMillis(duration) / 1000)
  }
)

/** "TERM" and "SIGTERM" both mean SIGTERM. */
const ConfigSignal = Schema.transform(
  Schema.String,
  StopSignal.annotations(expecting(StopSignal.literals.join(", "))),
  { strict: false, decode: (s) => (s.toUpperCase().startsWith("SIG") ? s.toUpperCase() : `SIG${s.toUpperCase()}`), encode: (s) => s }
)

/** An optional field that, when present, must be valid (`null` is not "absent"). */
const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })

const BackoffFields = Schema.Struct({
  initial: optional(ConfigDuration),
  max: optional(ConfigDuration),
  factor: optional(Schema.Number.pipe(Schema.between(1, 10)).annotations(expecting("a number from 1 to 10"))),
  resetAfter: optional(ConfigDuration)
})

const ProcessEntry = Schema.Struct({
  command: Schema.NonEmptyString.annotations(expecting("a non-empty string")),
  args: optional(Schema.Array(Schema.String).annotations(expecting("an array of strings"))),
  env: optional(Schema.Record({ key: Schema.String, value: Schema.String }).annotations(expecting("an object of string values"))),
  cwd: optional(Schema.NonEmptyString.annotations(expecting("a directory path"))),
  autostart: optional(Schema.Boolean.annotations(expecting("true or false"))),
  restart: optional(RestartPolicy.annotations(expecting("\"always\", \"on-failure\" or \"never\""))),
  backoff: optional(BackoffFields),
  stopSignal: optional(ConfigSignal),
  stopTimeout: optional(ConfigDuration)
})

/** Remote servers (Streamable HTTP / SSE) in the same file have no process to supervise. */
const isRemoteEntry = (entry: unknown): boolean =>
  typeof entry === "object" && entry !== null && ("url" in entry || ("type" in entry && entry.type !== "stdio"))

const JsonConfig = Schema.Struct({
  // a refined key schema would silently drop entries with bad names: names are checked below
  mcpServers: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})

const decodeJson = Schema.decodeUnknownEither(Schema.parseJson(JsonConfig))
const decodeEntry = Schema.decodeUnknownEither(ProcessEntry)
const isServerName = Schema.is(ServerName)

/** `["mcpServers", "fetch", "restart"]` → `mcpServers.fetch.restart` */
const formatIssues = (prefix: ReadonlyArray<PropertyKey>, error: ParseResult.ParseError): Array<string> =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => {
    const path = [...prefix, ...issue.path].map(String).join(".")
    return path === "" ? issue.message : `${path}: ${issue.message}`
  })

/** JSON.parse reports a character offset; people look for a line and column. */
const withLineAndColumn = (message: string, text: string) =>
  message.replace(/at position (\d+)(?: \(line \d+ column \d+\))?/, (_, offset: string) => {
    const before = text.slice(0, Number(offset)).split("\n")
    return `at line ${before.length} column ${before.at(-1)!.length + 1}`
  })

/** `${VAR}` and `${VAR:-default}`, as Claude Code expands them in .mcp.json. */
const expandVariables = (value: string, env: NodeJS.ProcessEnv, where: string, problems: Array<string>): string =>
  value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => {
    const found = env[name]
    if (found !== undefined) return found
    if (fallback !== undefined) return fallback
    problems.push(`${where}: environment variable ${name} is not set (write \${${name}:-default} to give a default)`)
    return ""
  })

/** Command, arguments, environment and working directory go to execve(2), whose strings end at a NUL byte. */
const nulBytes = (at: string, entry: typeof ProcessEntry.Type): Array<string> => {
  const texts: Array<readonly [string, string]> = [
    ["command", entry.command],
    ...(entry.args ?? []).map((arg, i) => [`args.${i}`, arg] as const),
    ...Object.entries(entry.env ?? {}).flatMap(([key, value]) => [["env", key] as const, [`env.${key}`, value] as const]),
    ...(entry.cwd === undefined ? [] : [["cwd", entry.cwd] as const])
  ]
  return texts.filter(([, text]) => text.includes("\u0000")).map(([where]) => `${at}.${where}: contains a NUL byte, which no program can be given`)
}

export interface DecodedConfig {
  readonly specs: ReadonlyArray<ServerSpec>
  /** Entries that were understood but not supervised, e.g. remote servers. */
  readonly skipped: ReadonlyArray<string>
}

/** Decode the JSON form; relative `cwd` values are resolved against the config file's directory. */
export const decodeJsonConfig = (
  file: string,
  text: string,
  env: NodeJS.ProcessEnv
): Effect.Effect<DecodedConfig, ConfigInvalid> =>
  Effect.suspend(() => {
    const fail = (problems: ReadonlyArray<string>) =>
      Effect.fail(new ConfigInvalid({ file, problems: [problems[0]!, ...problems.slice(1)] }))
    const config = decodeJson(text)
    if (Either.isLeft(config)) return fail(formatIssues([], config.left).map((p) => withLineAndColumn(p, text)))
    const configDir = Path.dirname(Path.resolve(file))
    const problems: Array<string> = []
    const specs: Array<ServerSpec> = []
    const skipped: Array<string> = []
    for (const [name, raw] of Record.toEntries(config.right.mcpServers)) {
      if (isRemoteEntry(raw)) {
        skipped.push(`mcpServers.${name}: remote server (url/type), nothing to supervise`)
        continue
      }
      if (!isServerName(name)) {
        problems.push(`mcpServers.${name}: invalid server name: expected 1-64 characters from A-Z a-z 0-9 . _ - (not starting with . _ -)`)
        continue
      }
      const entry = decodeEntry(raw, { errors: "all" })
      if (Either.isLeft(entry)) {
        problems.push(...formatIssues(["mcpServers", name], entry.left))
        continue
      }
      const e = entry.right
      const at = `mcpServers.${name}`
      const withNul = nulBytes(at, e)
      if (withNul.length > 0) {
        problems.push(...withNul)
        continue
      }
      const file = expandVariables(e.command, env, `${at}.command`, problems)
      const args = (e.args ?? []).map((arg, i) => expandVariables(arg, env, `${at}.args.${i}`, problems))
      const serverEnv = Record.map(e.env ?? {}, (value, key) => expandVariables(value, env, `${at}.env.${key}`, problems))
      const cwd = Path.resolve(configDir, expandVariables(e.cwd ?? ".", env, `${at}.cwd`, problems))
      const backoff = new Backoff({
        initial: e.backoff?.initial ?? Backoff.defaults.initial,
        max: e.backoff?.max ?? Backoff.defaults.max,
        factor: e.backoff?.factor ?? Backoff.defaults.factor,
        resetAfter: e.backoff?.resetAfter ?? Backoff.defaults.resetAfter
      })
      if (Duration.greaterThan(backoff.initial, backoff.max)) {
        problems.push(`${at}.backoff: initial (${Duration.format(backoff.initial)}) is larger than max (${Duration.format(backoff.max)})`)
      }
      specs.push(
        new ServerSpec({
          name,
          command: join([e.command, ...(e.args ?? [])]),
          launch: { _tag: "Exec", file, args },
          env: serverEnv,
          cwd,
          autostart: e.autostart ?? true,
          restart: e.restart ?? "always",
          backoff,
          stopSignal: e.stopSignal ?? "SIGTERM",
          stopTimeout: e.stopTimeout ?? defaultStopTimeout
        })
      )
    }
    return problems.length > 0 ? fail(problems) : Effect.succeed({ specs, skipped })
  })
