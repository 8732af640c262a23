// mcp-code-interpreter: an MCP server running Python in Docker sandboxes, over stdio or HTTP.
import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { defaultTeardown } from "@effect/platform/Runtime"
import { Console, Effect, Either, Layer, Logger, Option } from "effect"
import * as Path from "node:path"
import { DockerSandboxLive } from "../layers/interpreter/DockerSandboxLive.js"
import { EnvFileLive } from "../layers/interpreter/EnvFileLive.js"
import { HostFilesLive } from "../layers/interpreter/HostFilesLive.js"
import { McpTransportLive } from "../layers/interpreter/McpTransportLive.js"
import { SandboxFilesLive } from "../layers/interpreter/SandboxFilesLive.js"
import { SessionsLive } from "../layers/interpreter/SessionsLive.js"
import { ToolServerLive } from "../layers/interpreter/ToolServerLive.js"
import { ControlClientLive } from "../layers/manager/ControlClientLive.js"
import { HttpAccessLive } from "../layers/shared/HttpAccessLive.js"
import { TerminalConsoleLive } from "../layers/shared/TerminalConsoleLive.js"
import { EnvFile } from "../services/interpreter/EnvFile.js"
import { McpTransport } from "../services/interpreter/McpTransport.js"
import { HttpAccess, type HttpGuard } from "../services/shared/HttpAccess.js"
import { bytes, resolveSettings, type Settings, variables } from "./interpreter/settings.js"
import { socketEnvVar } from "./manager/socketPath.js"
import { version } from "./protocol/version.js"

const kebab = (name: string) => name.toLowerCase().replace(/_/g, "-")

/** `--NAME value` (or `--name value`) for every setting; they win over the environment and .env. */
const settingOptions = Object.fromEntries(
  Object.values(variables).map((v) => [
    v.name,
    Options.text(v.name).pipe(
      Options.withAlias(kebab(v.name)),
      Options.withDescription(`${v.description}${v.defaultValue === undefined ? "" : ` (default ${v.defaultValue})`}`),
      Options.optional
    )
  ])
)

const options = {
  http: Options.integer("http").pipe(
    Options.withDescription("Serve Streamable HTTP on this port at /mcp instead of stdio"),
    Options.optional
  ),
  host: Options.text("host").pipe(
    Options.withDescription("Address to listen on with --http; one that is not loopback (127.0.0.0/8, ::1, localhost) needs --http-token-file"),
    Options.withDefault("127.0.0.1")
  ),
  httpTokenFile: Options.text("http-token-file").pipe(
    Options.withDescription("With --http, every request must carry Authorization: Bearer <the token in this file> (read at start, trimmed)"),
    Options.optional
  ),
  httpMaxBody: Options.text("http-max-body").pipe(
    Options.withDescription("Largest HTTP request body (default 4m); a larger one gets 413 before it is read"),
    Options.withDefault("4m"),
    Options.mapEffect((raw) =>
      Either.match(bytes(raw), {
        onLeft: (problem) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--http-max-body: ${problem}`))),
        onRight: Effect.succeed
      })
    )
  ),
  managerSocket: Options.text("manager-socket").pipe(
    Options.withDescription(`Offer manager_status and manager_restart, talking to mcp-manager on this socket (also: $${socketEnvVar})`),
    Options.optional
  ),
  envFile: Options.text("env-file").pipe(
    Options.withDescription("dotenv file read for settings (they lose to arguments and the environment)"),
    Options.withDefault(".env")
  ),
  settings: settingOptions
}

/** The tools on their transport, over sessions and files in one Docker sandbox. */
const appLayer = (
  settings: Settings,
  http: { readonly host: string; readonly port: number; readonly guard: HttpGuard } | undefined,
  managerSocket: string | undefined
) => {
  const sandbox = DockerSandboxLive(settings)
  const sessions = SessionsLive(settings).pipe(Layer.provide(sandbox))
  const files = SandboxFilesLive(settings).pipe(
    Layer.provide(HostFilesLive({ input: settings.workdirIn, output: settings.workdirOut })),
    Layer.provide(sessions),
    Layer.provide(sandbox)
  )
  const manager = managerSocket === undefined ? undefined : { socket: managerSocket, client: ControlClientLive(managerSocket) }
  const tools = ToolServerLive({ settings, manager }).pipe(Layer.provide(Layer.merge(sessions, files)))
  return McpTransportLive(http).pipe(Layer.provide(tools))
}

/** A start that cannot work: one line on stderr, and the exit code. */
const stopWith = (code: number) => (error: { readonly message: string }) =>
  Effect.zipRight(Console.error(`mcp-code-interpreter: ${error.message}`), Effect.sync(() => (process.exitCode = code)))

const serve = (opts: Command.Command.ParseConfig<typeof options>) =>
  Effect.gen(function*() {
    const dotenv = yield* Effect.flatMap(EnvFile, (file) => file.read(Path.resolve(opts.envFile)))
    const settings = yield* resolveSettings({
      args: Object.fromEntries(Object.entries(opts.settings).map(([name, value]) => [name, Option.getOrUndefined(value)])),
      env: process.env,
      dotenv,
      cwd: process.cwd()
    })
    const managerSocket = Option.getOrUndefined(opts.managerSocket) ?? (process.env[socketEnvVar] || undefined)
    // before anything starts: a listener open to the network without a token does not start at all
    const http = yield* Option.match(opts.http, {
      onNone: () => Effect.succeed(undefined),
      onSome: (port) =>
        Effect.flatMap(HttpAccess, (access) =>
          access.guard({ host: opts.host, tokenFile: Option.getOrUndefined(opts.httpTokenFile), maxBodyBytes: opts.httpMaxBody })
        ).pipe(Effect.map((guard) => ({ host: opts.host, port, guard })))
    })
    yield* Effect.logInfo(
      `mcp-code-interpreter ${version}: image ${settings.image}, WORKDIR_IN ${settings.workdirIn}, WORKDIR_OUT ${settings.workdirOut}`
    )
    yield* Effect.flatMap(McpTransport, (transport) => transport.serve).pipe(Effect.provide(appLayer(settings, http, managerSocket)))
  }).pipe(
    Effect.provide(Layer.merge(EnvFileLive, HttpAccessLive)),
    Effect.catchTags({ SettingsInvalid: stopWith(2), HttpTokenRequired: stopWith(2), HttpTokenFileInvalid: stopWith(2), HttpListenFailed: stopWith(1) })
  )

const command = Command.make("mcp-code-interpreter", options, serve).pipe(
  Command.withDescription(
    "MCP server that runs Python in a Docker sandbox with persistent sessions and file transfer between host work directories and the sandbox. Settings: arguments > environment > .env > defaults."
  )
)

Command.run(command, { name: "mcp-code-interpreter", version })(process.argv).pipe(
  Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => (process.exitCode = 2))),
  Effect.provide(NodeContext.layer),
  Effect.provide(TerminalConsoleLive),
  // stdout carries JSON-RPC on stdio: logs go to stderr (the layers' and the tool handlers' too)
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
  NodeRuntime.runMain({
    disablePrettyLogger: true,
    // open Docker keep-alive sockets would hold the process: exit once everything is released
    teardown: (exit, onExit) => defaultTeardown(exit, (code) => {
      onExit(code)
      process.exit(process.exitCode ?? code)
    })
  })
)
