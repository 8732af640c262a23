// ToolServer: one small handler a tool. Each runs an Effect program on this layer's runtime (the
// shared Sessions and SandboxFiles); typed failures become isError results with a one-line reason,
// and the client's cancellation (the request's AbortSignal) interrupts the program.
import type { SocketError } from "@effect/platform/Socket"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { Cause, Effect, Layer, Runtime } from "effect"
import { SandboxFiles } from "../../services/interpreter/SandboxFiles.js"
import { Sessions } from "../../services/interpreter/Sessions.js"
import { ToolServer } from "../../services/interpreter/ToolServer.js"
import { ControlClient } from "../../services/manager/ControlClient.js"
import { managerTools, managerUnreachable, restartResult, statusResult } from "../../src/interpreter/managerTools.js"
import { runWithProgress } from "../../src/interpreter/progress.js"
import type { Settings } from "../../src/interpreter/settings.js"
import {
  copyOutResult,
  copyResult,
  failed,
  packagesResult,
  runResult,
  sandboxReset,
  sessionClosed,
  sessionStarted,
  toolError
} from "../../src/interpreter/toolResults.js"
import { installCode, installTimeout, interpreterTools, noNetworkForInstall, refusedRunFilePath, runFilePath } from "../../src/interpreter/tools.js"
import { version } from "../../src/protocol/version.js"

/** Where manager_status and manager_restart find mcp-manager: a client of its control socket. */
export interface ManagerAccess {
  readonly socket: string
  readonly client: Layer.Layer<ControlClient, SocketError>
}

/** Runs a handler's program; an abort (the client cancelled) interrupts it. */
type Run = (program: Effect.Effect<CallToolResult, never, Sessions | SandboxFiles>, signal: AbortSignal) => Promise<CallToolResult>

const interpreterHandlers = (server: McpServer, run: Run, settings: Settings) => {
  const tools = interpreterTools(settings)

  server.registerTool("init", tools.init, (_args, extra) =>
    run(failed(Effect.flatMap(Sessions, (s) => s.init), (id) => sessionStarted(id, settings.sessionTtl)), extra.signal))

  server.registerTool("close_session", tools.close_session, ({ session_id }, extra) =>
    run(failed(Effect.flatMap(Sessions, (s) => s.close(session_id)), () => sessionClosed(session_id)), extra.signal))

  server.registerTool("run_code", tools.run_code, ({ code, session_id }, extra) =>
    run(
      failed(runWithProgress(extra, (options) => Effect.flatMap(Sessions, (s) => s.run(session_id, { t: "run", code }, options))), runResult),
      extra.signal
    ))

  server.registerTool("run_file", tools.run_file, ({ path, session_id }, extra) => {
    const refused = refusedRunFilePath(path)
    if (refused !== undefined) return Promise.resolve(toolError(refused))
    const request = { t: "file", path: runFilePath(path, session_id) } as const
    return run(failed(runWithProgress(extra, (options) => Effect.flatMap(Sessions, (s) => s.run(session_id, request, options))), runResult), extra.signal)
  })

  server.registerTool("cp_in", tools.cp_in, ({ container_path, local_path, session_id }, extra) =>
    run(failed(Effect.flatMap(SandboxFiles, (f) => f.copyIn(local_path, container_path, session_id)), (c) => copyResult(session_id, c)), extra.signal))

  server.registerTool("cp_out", tools.cp_out, ({ container_path, local_path, return_image, session_id }, extra) =>
    run(
      failed(
        Effect.flatMap(SandboxFiles, (f) => f.copyOut(container_path, local_path, session_id, { asImage: return_image === true })),
        (c) => copyOutResult(session_id, c)
      ),
      extra.signal
    ))

  server.registerTool("edit_file", tools.edit_file, ({ container_path, content, session_id }, extra) =>
    run(failed(Effect.flatMap(SandboxFiles, (f) => f.writeFile(container_path, content, session_id)), (c) => copyResult(session_id, c)), extra.signal))

  server.registerTool("list_packages", tools.list_packages, (_args, extra) =>
    run(failed(Effect.flatMap(SandboxFiles, (f) => f.listPackages), packagesResult), extra.signal))

  server.registerTool("install_packages", tools.install_packages, ({ packages, session_id }, extra) => {
    if (settings.network === "none") return Promise.resolve(toolError(noNetworkForInstall))
    const request = { t: "run", code: installCode(packages, session_id) } as const
    return run(
      failed(runWithProgress(extra, (options) => Effect.flatMap(Sessions, (s) => s.run(session_id, request, { ...options, timeout: installTimeout }))), runResult),
      extra.signal
    )
  })

  server.registerTool("reset", tools.reset, (_args, extra) =>
    run(
      Effect.gen(function*() {
        const sessions = yield* Sessions
        const closed = (yield* sessions.ids).length
        yield* sessions.reset
        return sandboxReset(closed)
      }),
      extra.signal
    ))
}

/** Each call opens its own connection to the daemon (the daemon may have restarted in between). */
const managerHandlers = (server: McpServer, run: Run, { client, socket }: ManagerAccess) => {
  const tools = managerTools(socket)
  const unreachable = managerUnreachable(socket)

  server.registerTool("manager_status", tools.manager_status, (_args, extra) =>
    run(
      Effect.flatMap(ControlClient, (manager) => manager.Status()).pipe(
        Effect.scoped,
        Effect.provide(client),
        Effect.match({ onFailure: unreachable, onSuccess: statusResult })
      ),
      extra.signal
    ))

  server.registerTool("manager_restart", tools.manager_restart, ({ name }, extra) =>
    run(
      Effect.flatMap(ControlClient, (manager) => manager.Restart({ target: name })).pipe(
        Effect.scoped,
        Effect.provide(client),
        Effect.match({ onFailure: unreachable, onSuccess: restartResult })
      ),
      extra.signal
    ))
}

/** Every tool; manager_status and manager_restart only when `manager` says where mcp-manager is. */
export const ToolServerLive = (options: { readonly settings: Settings; readonly manager: ManagerAccess | undefined }) =>
  Layer.effect(
    ToolServer,
    Effect.map(Effect.runtime<Sessions | SandboxFiles>(), (runtime) => {
      const runPromise = Runtime.runPromise(runtime)
      const run: Run = (program, signal) =>
        runPromise(
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
      return {
        newServer: () => {
          const server = new McpServer({ name: "mcp-code-interpreter", version })
          interpreterHandlers(server, run, options.settings)
          if (options.manager !== undefined) managerHandlers(server, run, options.manager)
          return server
        }
      }
    })
  )
