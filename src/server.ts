// mcp-code-interpreter: an MCP server running Python in Docker sandboxes, over stdio or HTTP.
import { Command, Options, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { defaultTeardown } from "@effect/platform/Runtime"
import { Cause, Console, Effect, Layer, Logger, ManagedRuntime, Option } from "effect"
import * as Path from "node:path"
import { ControlClientLive } from "../layers/manager/ControlClientLive.js"
import { DockerSandboxLive } from "../layers/interpreter/DockerSandboxLive.js"
import { readDotenv } from "../layers/interpreter/internal/dotenvFile.js"
import { HostFilesLive } from "../layers/interpreter/HostFilesLive.js"
import { serveHttp, serveStdio } from "../layers/interpreter/internal/mcpTransports.js"
import { SandboxFilesLive } from "../layers/interpreter/SandboxFilesLive.js"
import { SessionsLive } from "../layers/interpreter/SessionsLive.js"
import { TerminalConsoleLive } from "../layers/shared/TerminalConsoleLive.js"
import { resolveSettings, type Settings, variables } from "./interpreter/settings.js"
import { createMcpServer, toolError, type ToolRunner } from "./interpreter/tools.js"
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
  host: Options.text("host").pipe(Options.withDescription("Address to listen on with --http"), Options.withDefault("127.0.0.1")),
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

const appLayer = (settings: Settings) => {
  const sandbox = DockerSandboxLive(settings)
  const sessions = SessionsLive(settings).pipe(Layer.provide(sandbox))
  const files = SandboxFilesLive(settings).pipe(
    Layer.provide(HostFilesLive({ input: settings.workdirIn, output: settings.workdirOut })),
    Layer.provide(sessions),
    Layer.provide(sandbox)
  )
  // stdout carries JSON-RPC on stdio: logs go to stderr
  return Layer.merge(sessions, files).pipe(
    Layer.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)))
  )
}

const serve = (opts: Command.Command.ParseConfig<typeof options>) =>
  Effect.gen(function*() {
    const dotenv = yield* readDotenv(Path.resolve(opts.envFile))
    const settings = yield* resolveSettings({
      args: Object.fromEntries(Object.entries(opts.settings).map(([name, value]) => [name, Option.getOrUndefined(value)])),
      env: process.env,
      dotenv,
      cwd: process.cwd()
    })
    const managerSocket = Option.getOrUndefined(opts.managerSocket) ?? (process.env[socketEnvVar] || undefined)
    const runtime = yield* Effect.acquireRelease(
      Effect.sync(() => ManagedRuntime.make(appLayer(settings))),
      (rt) => Effect.promise(() => rt.dispose())
    )
    const runner: ToolRunner = {
      run: (program, signal) =>
        runtime.runPromise(
          program.pipe(
            Effect.catchAllCause((cause) =>
              Cause.isInterruptedOnly(cause)
                ? Effect.succeed(toolError("cancelled"))
                : Effect.zipRight(
                  Effect.logError("tool failed unexpectedly", cause),
                  Effect.succeed(toolError(`internal error: ${Cause.squash(cause)}`))
                )
            )
          ),
          { signal }
        ).catch(() => toolError("cancelled"))
    }
    const manager = managerSocket === undefined ? undefined : { socket: managerSocket, client: ControlClientLive(managerSocket) }
    const makeServer = () => createMcpServer(runner, { settings, manager })
    yield* Effect.logInfo(
      `mcp-code-interpreter ${version}: image ${settings.image}, WORKDIR_IN ${settings.workdirIn}, WORKDIR_OUT ${settings.workdirOut}`
    )
    yield* Option.match(opts.http, {
      onNone: () => serveStdio(makeServer),
      onSome: (port) => serveHttp(makeServer, { host: opts.host, port })
    })
  }).pipe(
    Effect.scoped,
    Effect.catchTags({
      SettingsInvalid: (error) => Effect.zipRight(Console.error(`mcp-code-interpreter: ${error.message}`), Effect.sync(() => (process.exitCode = 2))),
      HttpListenFailed: (error) => Effect.zipRight(Console.error(`mcp-code-interpreter: ${error.message}`), Effect.sync(() => (process.exitCode = 1)))
    })
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
