// mcpctl: control a running mcp-manager over its socket.
import { Args, Command, Options, ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type { RpcClientError } from "@effect/rpc"
import { Console, DateTime, Duration, Effect, Option, Predicate, Schema, Stream } from "effect"
import { ControlClientLive } from "../layers/manager/ControlClientLive.js"
import { TerminalConsoleLive } from "../layers/shared/TerminalConsoleLive.js"
import { ControlClient } from "../services/manager/ControlClient.js"
import { DaemonInfo, LogLine, ReloadResult, ServerStatus } from "./protocol/ManagerRpcs.js"
import { resolveSocketPath, socketEnvVar } from "./manager/socketPath.js"
import { statusTable } from "./manager/statusTable.js"
import { version } from "./protocol/version.js"

// Accepted both before and after the subcommand (`mcpctl --json status`, `mcpctl status --json`).
const common = {
  socket: Options.text("socket").pipe(
    Options.withAlias("s"),
    Options.withDescription(
      `Control socket of the daemon. Falls back to $${socketEnvVar}, then /run/mcp_manager.sock for root, else $XDG_RUNTIME_DIR/mcp_manager.sock (or /tmp/mcp-manager-<uid>/mcp_manager.sock)`
    ),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("Print JSON instead of text")),
  timeout: Options.integer("timeout").pipe(
    Options.withDescription("Seconds to wait for the daemon to answer (default 60)"),
    Options.optional
  )
}
type Common = Command.Command.ParseConfig<typeof common>

const root = Command.make("mcpctl", common).pipe(
  Command.withDescription("Control mcp-manager: show, start, stop and restart its MCP servers, read their output, reload its config.")
)

/** An expected failure: one line on stderr and a non-zero exit, no stack trace. */
const fail = (message: string) =>
  Effect.zipRight(Console.error(`mcpctl: ${message}`), Effect.sync(() => (process.exitCode = 1)))

/** Why the socket could not be used, in words: errno codes are buried in the RPC error's causes. */
const connectionProblem = (socketPath: string, error: RpcClientError.RpcClientError) => {
  let cause: unknown = error.cause
  while (typeof cause === "object" && cause !== null && !("code" in cause) && "cause" in cause) cause = cause.cause
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  if (code === "EACCES" || code === "EPERM") return `cannot connect to ${socketPath}: permission denied`
  if (code === "ENOENT" || code === "ECONNREFUSED" || code === undefined) {
    return `cannot connect to ${socketPath}: is mcp-manager running?`
  }
  return `cannot connect to ${socketPath} (${code}): is mcp-manager running?`
}

class NoAnswer extends Schema.TaggedError<NoAnswer>("mcpctl/NoAnswer")("NoAnswer", { socket: Schema.String, seconds: Schema.Number }) {
  override get message(): string {
    return `no answer from ${this.socket} within ${this.seconds}s`
  }
}

/** Run `f` with a client of the daemon; transport errors and timeouts become one clear line. */
const withClient = <E extends { readonly _tag: string; readonly message: string }>(
  local: Common,
  f: (client: ControlClient, json: boolean) => Effect.Effect<void, E | RpcClientError.RpcClientError>,
  options: { readonly streaming?: boolean } = {}
) =>
  Effect.flatMap(root, (global) => {
    const flag = Option.getOrUndefined(Option.orElse(local.socket, () => global.socket))
    const socketPath = resolveSocketPath(flag, process.env, process.getuid?.() ?? 0)
    const seconds = Option.getOrElse(Option.orElse(local.timeout, () => global.timeout), () => 60)
    const call = Effect.flatMap(ControlClient, (client) => f(client, local.json || global.json))
    const bounded = options.streaming ? call : call.pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(seconds),
        onTimeout: () => new NoAnswer({ socket: socketPath, seconds })
      })
    )
    return bounded.pipe(
      Effect.scoped,
      Effect.provide(ControlClientLive(socketPath)),
      Effect.catchAll((error) =>
        fail(Predicate.isTagged(error, "RpcClientError") ? connectionProblem(socketPath, error) : error.message)
      )
    )
  })

const encodeStatuses = Schema.encodeSync(Schema.Array(ServerStatus))
const encodeLine = Schema.encodeSync(LogLine)

const printStatuses = (statuses: ReadonlyArray<ServerStatus>, json: boolean) =>
  json
    ? Console.log(JSON.stringify(encodeStatuses(statuses), null, 2))
    : Effect.flatMap(DateTime.now, (now) => Console.log(statusTable(statuses, now)))

/** For commands acting on one server: its state now, or the full status as JSON. */
const printOutcome = (status: ServerStatus, json: boolean) =>
  json
    ? Console.log(JSON.stringify(encodeStatuses([status])[0], null, 2))
    : Console.log(`${status.name}: ${status.state}${status.pid === null ? "" : ` (pid ${status.pid})`}`)

const target = Args.text({ name: "name" }).pipe(
  Args.withDescription("Server name, or its command exactly as written in the config")
)

const status = Command.make("status", { ...common, names: Args.text({ name: "name" }).pipe(Args.repeated) }, (opts) =>
  withClient(opts, (client, json) =>
    Effect.gen(function*() {
      const all = yield* client.Status()
      const names = opts.names
      const unknown = names.filter((n) => !all.some((s) => s.name === n))
      if (unknown.length > 0) return yield* fail(`unknown server(s): ${unknown.join(", ")}`)
      yield* printStatuses(names.length === 0 ? all : all.filter((s) => names.includes(s.name)), json)
    })
  )).pipe(Command.withDescription("Show every server (or the named ones): state, pid, uptime, restarts, last exit, command"))

const restart = Command.make("restart", { ...common, target }, (opts) =>
  withClient(opts, (client, json) => Effect.flatMap(client.Restart({ target: opts.target }), (s) => printOutcome(s, json)))).pipe(
    Command.withDescription("Stop a server (its whole process group) and start it again now")
  )

const restartAll = Command.make("restart-all", common, (opts) =>
  withClient(opts, (client, json) => Effect.flatMap(client.RestartAll(), (all) => printStatuses(all, json)))).pipe(
    Command.withDescription("Restart every configured server")
  )

const start = Command.make("start", { ...common, target }, (opts) =>
  withClient(opts, (client, json) => Effect.flatMap(client.Start({ target: opts.target }), (s) => printOutcome(s, json)))).pipe(
    Command.withDescription("Start a stopped or exited server")
  )

const stop = Command.make("stop", { ...common, target }, (opts) =>
  withClient(opts, (client, json) => Effect.flatMap(client.Stop({ target: opts.target }), (s) => printOutcome(s, json)))).pipe(
    Command.withDescription("Stop a server: its stop signal to the process group and what left it, then SIGKILL after its stop timeout")
  )

const logs = Command.make("logs", {
  ...common,
  target,
  lines: Options.integer("lines").pipe(
    Options.withAlias("n"),
    Options.withDescription("Number of past lines to show"),
    Options.withDefault(100)
  ),
  follow: Options.boolean("follow").pipe(Options.withAlias("f"), Options.withDescription("Keep printing new lines as they arrive"))
}, ({ follow, lines, target, ...opts }) =>
  withClient(
    opts,
    (client, json) =>
      client.Logs({ target, lines: Math.max(0, lines), follow }).pipe(
        Stream.runForEach((line) =>
          json
            ? Console.log(JSON.stringify(encodeLine(line)))
            : line.stream === "stderr"
            ? Console.error(line.text)
            : Console.log(line.text)
        )
      ),
    { streaming: follow }
  )).pipe(Command.withDescription("Print a server's recent output (stdout to stdout, stderr to stderr); -f to follow"))

const reload = Command.make("reload", common, (opts) =>
  withClient(opts, (client, json) =>
    Effect.flatMap(client.Reload(), (r) =>
      json
        ? Console.log(JSON.stringify(Schema.encodeSync(ReloadResult)(r), null, 2))
        : Console.log(
          [
            `reloaded: ${r.added.length} added, ${r.removed.length} removed, ${r.changed.length} changed, ${r.unchanged.length} unchanged`,
            ...r.added.map((n) => `  + ${n}`),
            ...r.removed.map((n) => `  - ${n}`),
            ...r.changed.map((n) => `  ~ ${n}`),
            ...r.skipped.map((n) => `  not supervised: ${n}`)
          ].join("\n")
        ))
  )).pipe(Command.withDescription("Read the config file again and apply the difference (unchanged servers keep running)"))

const versionCommand = Command.make("version", common, (opts) =>
  withClient(opts, (client, json) =>
    Effect.flatMap(client.Version(), (info) =>
      json
        ? Console.log(JSON.stringify({ mcpctl: version, daemon: Schema.encodeSync(DaemonInfo)(info) }, null, 2))
        : Console.log(`mcpctl ${version}\nmcp-manager ${info.version} (pid ${info.pid}, config ${info.configFile}, socket ${info.socket})`))
  )).pipe(Command.withDescription("Show the versions of mcpctl and of the running daemon"))

const cli = Command.run(
  root.pipe(Command.withSubcommands([status, restart, restartAll, start, stop, logs, reload, versionCommand])),
  { name: "mcpctl", version }
)

cli(process.argv).pipe(
  Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => (process.exitCode = 2))),
  Effect.provide(NodeContext.layer),
  Effect.provide(TerminalConsoleLive),
  NodeRuntime.runMain
)
