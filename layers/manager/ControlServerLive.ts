// The control socket: @effect/rpc over a Unix domain socket, mode 0600 (0660 with a group).
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import * as SocketServer from "@effect/platform/SocketServer"
import { RpcSerialization, RpcServer } from "@effect/rpc"
import { Effect, Layer, Stream } from "effect"
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { SocketUnavailable } from "../../services/manager/ControlSocket.js"
import { Daemon } from "../../services/manager/Daemon.js"
import { Supervisor, type TargetError } from "../../services/manager/Supervisor.js"
import { fallbackDir, privateDirProblem } from "../../src/manager/socketPath.js"
import { type LogLine, ManagerRpcs, TooManyStreams } from "../../src/protocol/ManagerRpcs.js"
import { ControlSocketProtocolLive, maxOpenStreams } from "./ControlSocketProtocolLive.js"

export interface ControlSocketOptions {
  readonly path: string
  /** Group allowed to connect (name or numeric id): the socket becomes 0660 and owned by it. */
  readonly group: string | undefined
}

/**
 * A request line longer than this closes that client's connection (ControlSocketProtocol). Small on
 * purpose: the default 16 MiB lets one client stall every other for seconds while it buffers junk.
 */
const maxRequestLine = 1024 * 1024

/** Does a daemon answer on this socket? ECONNREFUSED means a stale file left by a dead daemon. */
const answers = (path: string) =>
  Effect.async<boolean>((resume) => {
    const probe = Net.createConnection({ path })
    probe.setTimeout(2000, () => probe.destroy(new Error("timeout")))
    probe.once("connect", () => {
      probe.destroy()
      resume(Effect.succeed(true))
    })
    probe.once("error", () => resume(Effect.succeed(false)))
    return Effect.sync(() => probe.destroy())
  })

const unavailable = (path: string) => (reason: string, cause?: unknown) => new SocketUnavailable({ path, reason, cause })

/**
 * The fallback directory in /tmp: created 0700 when missing; refused unless it is a real directory
 * of ours with mode 0700 (anyone may have created it first). lstat, so a symbolic link is refused.
 */
const claimPrivateDir = (dir: string, uid: number, fail: (reason: string, cause?: unknown) => SocketUnavailable) =>
  Effect.gen(function*() {
    yield* Effect.tryPromise({
      try: () => Fs.promises.mkdir(dir, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => (e.code === "EEXIST" ? undefined : Promise.reject(e))),
      catch: (e) => fail(`cannot create ${dir}: ${String(e)}`, e)
    })
    const stat = yield* Effect.tryPromise({ try: () => Fs.promises.lstat(dir), catch: (e) => fail(`cannot inspect ${dir}: ${String(e)}`, e) })
    const problem = privateDirProblem(dir, stat, uid)
    if (problem !== undefined) return yield* fail(problem)
  })

/**
 * Make sure we may listen on `path`: refuse when another daemon answers there or the path is not a
 * socket, or when the fallback directory (no XDG_RUNTIME_DIR) is not ours alone; remove a stale
 * socket. Run this before starting any server.
 */
export const claimSocketPath = (path: string, uid: number = process.getuid?.() ?? 0) =>
  Effect.gen(function*() {
    const fail = unavailable(path)
    const dir = Path.dirname(path)
    if (dir === fallbackDir(uid)) {
      yield* claimPrivateDir(dir, uid, fail)
    } else if (!Fs.existsSync(dir)) { // sync-ok: start-up only (claiming the socket path), before anything is served
      // a directory the user named (--socket, $MCP_MANAGER_SOCKET, $XDG_RUNTIME_DIR): create it owner-only
      // sync-ok: start-up only, as above
      yield* Effect.try({ try: () => Fs.mkdirSync(dir, { recursive: true, mode: 0o700 }), catch: (e) => fail(`cannot create ${dir}: ${String(e)}`, e) })
    }
    const stat = Fs.lstatSync(path, { throwIfNoEntry: false }) // sync-ok: start-up only, claiming the socket path
    if (stat === undefined) return
    if (!stat.isSocket()) return yield* fail("the path exists and is not a socket; refusing to replace it")
    if (yield* answers(path)) {
      return yield* fail("another mcp-manager is already answering there (stop it first, or pass another --socket)")
    }
    yield* Effect.logInfo(`removing stale socket ${path}`)
    // sync-ok: start-up only, removing a stale socket before listening
    yield* Effect.try({ try: () => Fs.rmSync(path, { force: true }), catch: (e) => fail(`cannot remove the stale socket: ${String(e)}`, e) })
  })

const groupId = (group: string, fail: (reason: string, cause?: unknown) => SocketUnavailable) =>
  /^\d+$/.test(group)
    ? Effect.succeed(Number(group))
    : Effect.try({
      // getent answers from every NSS source (files, LDAP, ...), not just /etc/group
      // sync-ok: start-up only, resolving --socket-group once before listening
      try: () => Number(CP.execFileSync("getent", ["group", group], { encoding: "utf8" }).split(":")[2]),
      catch: (e) => fail(`unknown group "${group}"`, e)
    })

/** Listen with umask 0177 so the socket is never, even briefly, connectable by others. */
const socketServer = ({ group, path }: ControlSocketOptions) =>
  Layer.scoped(
    SocketServer.SocketServer,
    Effect.gen(function*() {
      const fail = unavailable(path)
      const server = yield* Effect.acquireUseRelease(
        Effect.sync(() => process.umask(0o177)),
        () => NodeSocketServer.make({ path }),
        (previous) => Effect.sync(() => process.umask(previous))
      ).pipe(Effect.mapError((error) => fail(String(error.cause), error)))
      if (group !== undefined) {
        const gid = yield* groupId(group, fail)
        yield* Effect.try({
          try: () => {
            // sync-ok: start-up only, before the socket is announced
            Fs.chownSync(path, -1, gid)
            Fs.chmodSync(path, 0o660) // sync-ok: start-up only, as above
          },
          catch: (e) => fail(`cannot give group ${group} access: ${String(e)}`, e)
        })
      }
      yield* Effect.logInfo(`listening on ${path}`)
      return server
    })
  )

const HandlersLive = ManagerRpcs.toLayer(Effect.gen(function*() {
  const supervisor = yield* Supervisor
  const daemon = yield* Daemon
  // log streams open per connection, bounded so that one client cannot hold unbounded followers
  const openStreams = new Map<number, number>()
  /** Counts one more stream for the client while the scope lasts; false (and nothing counted) at the limit. */
  const admitStream = (clientId: number) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        const open = openStreams.get(clientId) ?? 0
        if (open >= maxOpenStreams) return false
        openStreams.set(clientId, open + 1)
        return true
      }),
      (admitted) =>
        Effect.sync(() => {
          if (!admitted) return
          const open = openStreams.get(clientId)! - 1
          if (open === 0) openStreams.delete(clientId)
          else openStreams.set(clientId, open)
        })
    )
  return {
    Status: () => supervisor.status,
    Restart: ({ target }) => supervisor.restart(target),
    RestartAll: () => supervisor.restartAll,
    Start: ({ target }) => supervisor.start(target),
    Stop: ({ target }) => supervisor.stop(target),
    Logs: ({ follow, lines, target }, { clientId }) =>
      Stream.unwrapScoped(Effect.map(admitStream(clientId), (admitted): Stream.Stream<LogLine, TargetError | TooManyStreams> =>
        admitted
          ? supervisor.logs(target, { lines, follow })
          : Stream.fail(new TooManyStreams({ limit: maxOpenStreams })))),
    Reload: () => daemon.reload,
    Version: () => daemon.info
  }
}))

export const ControlServerLive = (options: ControlSocketOptions) =>
  // no spans: nothing exports them, and they cost as much as answering a status request
  RpcServer.layer(ManagerRpcs, { disableTracing: true }).pipe(
    Layer.provide(HandlersLive),
    Layer.provide(ControlSocketProtocolLive),
    Layer.provide(RpcSerialization.layerNdjsonWith({ maxBufferSize: maxRequestLine })),
    Layer.provide(socketServer(options))
  )
