// mcp-manager: supervise the MCP servers of a config file and answer a control socket.
import { Command, Options, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Console, Effect, Layer, Logger, Option } from "effect"
import * as Os from "node:os"
import * as Path from "node:path"
import { ChildProcessesLive } from "../layers/manager/ChildProcessesLive.js"
import { ConfigSourceLive } from "../layers/manager/ConfigSourceLive.js"
import { claimSocketPath, ControlServerLive } from "../layers/manager/ControlServerLive.js"
import { DaemonLive } from "../layers/manager/DaemonLive.js"
import { ProcessGroupsLive } from "../layers/manager/ProcessGroupsLive.js"
import { ProcessTableLive } from "../layers/manager/ProcessTableLive.js"
import { ReadinessLive } from "../layers/manager/ReadinessLive.js"
import { ServerLogsLive } from "../layers/manager/ServerLogsLive.js"
import { SupervisorLive } from "../layers/manager/SupervisorLive.js"
import { SystemdNotifyLive } from "../layers/manager/SystemdNotifyLive.js"
import { TerminalConsoleLive } from "../layers/shared/TerminalConsoleLive.js"
import { resolveRuntimeDir, resolveSocketPath, runtimeDirDescription, socketEnvVar } from "./manager/socketPath.js"
import { version } from "./protocol/version.js"

const uid = process.getuid?.() ?? 0

const defaultConfigFile = uid === 0
  ? "/etc/mcp-manager/mcp_server.conf"
  : Path.join(process.env.XDG_CONFIG_HOME || Path.join(Os.homedir(), ".config"), "mcp-manager", "mcp_server.conf")

const options = {
  config: Options.text("config").pipe(
    Options.withAlias("c"),
    Options.withDescription(
      "Config file: mcp_server.conf (one shell command per line) or a *.json file in the MCP client form " +
        "{\"mcpServers\": {...}}. Falls back to $MCP_MANAGER_CONFIG, then " + defaultConfigFile
    ),
    Options.withFallbackConfig(Config.string("MCP_MANAGER_CONFIG")),
    Options.withDefault(defaultConfigFile)
  ),
  socket: Options.text("socket").pipe(
    Options.withDescription(`Control socket path. Falls back to $${socketEnvVar}, then /run/mcp_manager.sock for root, else $XDG_RUNTIME_DIR/mcp_manager.sock (or /tmp/mcp-manager-<uid>/mcp_manager.sock)`),
    Options.optional
  ),
  socketGroup: Options.text("socket-group").pipe(
    Options.withDescription("Let members of this group use the socket (mode 0660 instead of 0600)"),
    Options.optional
  ),
  runtimeDir: Options.text("runtime-dir").pipe(
    Options.withDescription(
      "Where the daemon records the process groups it started, so that after a kill -9 of the daemon the next start " +
        `(same runtime directory and socket) stops what is left of them. Falls back to ${runtimeDirDescription}`
    ),
    Options.optional
  ),
  logDir: Options.text("log-dir").pipe(
    Options.withDescription("Also write each server's output to <dir>/<name>.log, rotated by size"),
    Options.optional
  ),
  logMaxBytes: Options.integer("log-max-bytes").pipe(
    Options.withDescription("Rotate a server's log file when it reaches this size"),
    Options.withDefault(10 * 1024 * 1024)
  ),
  logFiles: Options.integer("log-files").pipe(
    Options.withDescription("Rotated log files kept per server (name.log.1 … name.log.N)"),
    Options.withDefault(5)
  ),
  logLines: Options.integer("log-lines").pipe(
    Options.withDescription("Lines of output kept in memory per server for `mcpctl logs`"),
    Options.withDefault(1000)
  ),
  quiet: Options.boolean("quiet").pipe(
    Options.withDescription("Do not copy the servers' output to the daemon's stderr (the journal under systemd)")
  )
}

type DaemonOptions = Command.Command.ParseConfig<typeof options>

/** Exit status for an invalid config (sysexits EX_CONFIG): the unit does not restart on it. */
const exitConfigInvalid = 78

const daemonLayer = (opts: DaemonOptions, socket: string) => {
  const runId = `${process.pid}-${Date.now().toString(36)}`
  // built first: stops whatever a killed predecessor left before any server starts
  const groups = ProcessGroupsLive({
    dir: resolveRuntimeDir(Option.getOrUndefined(opts.runtimeDir), process.env, uid),
    socket,
    runId
  }).pipe(Layer.provide(ProcessTableLive))
  const supervision = SupervisorLive.pipe(
    Layer.provide(ChildProcessesLive(runId).pipe(Layer.provide(Layer.merge(ProcessTableLive, groups)))),
    Layer.provideMerge(ServerLogsLive({
      tailLines: Math.max(1, opts.logLines),
      dir: Option.getOrUndefined(opts.logDir),
      maxFileBytes: Math.max(4096, opts.logMaxBytes),
      keepFiles: Math.max(0, opts.logFiles),
      echo: !opts.quiet
    }))
  )
  const daemon = ControlServerLive({ path: socket, group: Option.getOrUndefined(opts.socketGroup) }).pipe(
    Layer.provide(DaemonLive(socket)),
    Layer.provideMerge(Layer.merge(supervision, ConfigSourceLive(Path.resolve(opts.config))))
  )
  // last to start, first to stop: READY=1 when all of the above is up, STOPPING=1 before it stops
  return ReadinessLive.pipe(Layer.provide(daemon), Layer.provide(SystemdNotifyLive))
}

const run = (opts: DaemonOptions) =>
  Effect.gen(function*() {
    const socket = resolveSocketPath(Option.getOrUndefined(opts.socket), process.env, uid)
    yield* Effect.logInfo(`mcp-manager ${version} starting (pid ${process.pid})`)
    yield* claimSocketPath(socket)
    yield* Effect.scoped(Effect.gen(function*() {
      yield* Layer.build(daemonLayer(opts, socket))
      yield* Effect.logInfo("ready")
      return yield* Effect.never
    }))
  }).pipe(
    Effect.catchTags({
      ConfigInvalid: (error) =>
        Effect.zipRight(
          Console.error(`mcp-manager: invalid config ${error.file}:\n${error.problems.map((p) => `  ${p}`).join("\n")}`),
          Effect.sync(() => (process.exitCode = exitConfigInvalid))
        ),
      SocketUnavailable: (error) =>
        Effect.zipRight(Console.error(`mcp-manager: ${error.message}`), Effect.sync(() => (process.exitCode = 1)))
    })
  )

const command = Command.make("mcp-manager", options, run).pipe(
  Command.withDescription("Supervise MCP servers: start each, restart it when it exits (with backoff), stop it cleanly, and answer mcpctl on a Unix socket. SIGHUP reloads the config.")
)

const cli = Command.run(command, { name: "mcp-manager", version })

// The log is stderr (the journal under systemd). If that pipe goes away, supervision matters more
// than logging: write errors are dropped instead of ending the process, as an unhandled stream
// error would, leaving the servers without their supervisor.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {})

cli(process.argv).pipe(
  // @effect/cli already printed the usage error
  Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => (process.exitCode = 2))),
  Effect.provide(NodeContext.layer),
  Effect.provide(TerminalConsoleLive),
  // one logfmt line per event on stderr: readable in a terminal, parseable in the journal
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
