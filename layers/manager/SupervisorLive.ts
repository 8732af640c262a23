// layers/manager/: the daemon's live Layers, <Service>Live.ts, the only manager code that touches
// processes, files and sockets; internal/ holds helpers private to them. src/daemon.ts wires them.
//
// Supervisor: each server is a fiber in a FiberMap that runs its child (a scoped resource) and
// restarts it on the restart schedule. Control operations on one server are serialised by its lock.
import { Clock, DateTime, Duration, Effect, FiberMap, Layer, Schedule, Stream, SubscriptionRef } from "effect"
import { ChildProcesses } from "../../services/manager/ChildProcesses.js"
import { ServerLogs } from "../../services/manager/ServerLogs.js"
import { Supervisor } from "../../services/manager/Supervisor.js"
import { AmbiguousServer, BadState, LastExit, ServerStatus, type ServerState, UnknownServer } from "../../src/protocol/ManagerRpcs.js"
import { restartSchedule, ServerExited } from "../../src/manager/restartSchedule.js"
import { sameSpec, type ServerSpec } from "../../src/manager/ServerSpec.js"

interface RunInfo {
  readonly state: ServerState
  readonly pid: number | null
  readonly restarts: number
  readonly everStarted: boolean
  readonly startedAt: DateTime.Utc | null
  readonly lastExit: LastExit | null
  readonly nextRestartAt: DateTime.Utc | null
  readonly lastError: string | null
}

const initialInfo: RunInfo = {
  state: "stopped",
  pid: null,
  restarts: 0,
  everStarted: false,
  startedAt: null,
  lastExit: null,
  nextRestartAt: null,
  lastError: null
}

interface Managed {
  readonly spec: ServerSpec
  readonly info: SubscriptionRef.SubscriptionRef<RunInfo>
  readonly lock: Effect.Semaphore
  /** Set once a reload replaced or removed this server; operations then look it up again. */
  retired: boolean
}

/** Runs to completion even if the client that asked goes away: half a restart helps nobody. */
const atomically = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.uninterruptible(effect)

export const SupervisorLive = Layer.scoped(
  Supervisor,
  Effect.gen(function*() {
    const children = yield* ChildProcesses
    const logs = yield* ServerLogs
    const fibers = yield* FiberMap.make<string>()
    const structure = yield* Effect.makeSemaphore(1)
    let servers: ReadonlyArray<Managed> = []
    /** Bumped after every change of any server's info or of the set of servers: drives `states`. */
    const revision = yield* SubscriptionRef.make(0)
    const bumpRevision = SubscriptionRef.update(revision, (n) => n + 1)

    const update = (m: Managed, f: (info: RunInfo) => Partial<RunInfo>) =>
      Effect.zipRight(SubscriptionRef.update(m.info, (info) => ({ ...info, ...f(info) })), bumpRevision)

    const statusOf = (m: Managed) =>
      Effect.zipWith(SubscriptionRef.get(m.info), logs.fileProblem(m.spec.name), (info, logProblem) =>
        new ServerStatus({
          name: m.spec.name,
          command: m.spec.command,
          state: info.state,
          pid: info.pid,
          restarts: info.restarts,
          startedAt: info.startedAt,
          lastExit: info.lastExit,
          nextRestartAt: info.nextRestartAt,
          lastError: info.lastError,
          autostart: m.spec.autostart,
          restartPolicy: m.spec.restart,
          logProblem
        }, { disableValidation: true })) // typed fields of our own: validating them cost ~60 µs a server per request

    /** One run: spawn, wait for the main process to exit, leave nothing of it behind. */
    const runOnce = (m: Managed) =>
      Effect.scoped(Effect.gen(function*() {
        yield* update(m, (info) => ({
          state: "starting",
          nextRestartAt: null,
          everStarted: true,
          restarts: info.everStarted ? info.restarts + 1 : info.restarts
        }))
        const child = yield* children.spawn(m.spec, (stream, text) => logs.record(m.spec.name, stream, text)).pipe(
          Effect.tapError((error) => update(m, () => ({ lastError: error.reason, pid: null })))
        )
        const startedAt = yield* Clock.currentTimeMillis
        yield* update(m, () => ({ state: "running", pid: child.pid, startedAt: DateTime.unsafeMake(startedAt), lastError: null }))
        yield* Effect.logInfo("started").pipe(Effect.annotateLogs({ pid: child.pid }))
        const { code, signal } = yield* child.exited
        const now = yield* Clock.currentTimeMillis
        yield* update(m, () => ({ state: "exited", pid: null, lastExit: new LastExit({ code, signal, at: DateTime.unsafeMake(now) }) }))
        return yield* new ServerExited({ pid: child.pid, code, signal, uptime: Duration.millis(now - startedAt) })
      }))

    const supervise = (m: Managed) =>
      runOnce(m).pipe(
        Effect.retry(
          restartSchedule(m.spec.restart, m.spec.backoff).pipe(
            Schedule.tapOutput(([delay, end]) =>
              Effect.gen(function*() {
                const at = DateTime.unsafeMake((yield* Clock.currentTimeMillis) + Duration.toMillis(delay))
                yield* update(m, () => ({ state: "backoff", nextRestartAt: at }))
                const restartIn = Duration.format(Duration.millis(Math.round(Duration.toMillis(delay))))
                yield* end._tag === "ServerExited"
                  ? Effect.logWarning("exited").pipe(Effect.annotateLogs({
                    pid: end.pid,
                    code: end.code,
                    signal: end.signal,
                    uptime: Duration.format(end.uptime),
                    restart_in: restartIn
                  }))
                  : Effect.logError(`cannot start: ${end.reason}`).pipe(Effect.annotateLogs({ retry_in: restartIn }))
              })
            )
          )
        ),
        Effect.catchAll((end) =>
          Effect.zipRight(
            update(m, () => ({ state: "exited", nextRestartAt: null })),
            end._tag === "ServerExited"
              ? Effect.logInfo(`exited; restart policy "${m.spec.restart}": not restarting`).pipe(
                Effect.annotateLogs({ pid: end.pid, code: end.code, signal: end.signal })
              )
              : Effect.logError(`cannot start: ${end.reason}; restart policy "${m.spec.restart}": giving up`)
          )
        ),
        Effect.onInterrupt(() =>
          Effect.zipRight(update(m, () => ({ state: "stopped", pid: null, nextRestartAt: null })), Effect.logInfo("stopped"))
        ),
        Effect.annotateLogs({ server: m.spec.name })
      )

    /** Start the server's fiber and wait until its process is spawned (or failed to). */
    const launch = (m: Managed) =>
      Effect.gen(function*() {
        yield* update(m, () => ({ state: "starting" }))
        yield* FiberMap.run(fibers, m.spec.name, supervise(m))
        yield* m.info.changes.pipe(
          Stream.takeUntil((info) => info.state !== "starting"),
          Stream.runDrain,
          Effect.timeout("10 seconds"),
          Effect.ignore
        )
      })

    /** Stop the server's fiber; its scope stops the process group. */
    const halt = (m: Managed) =>
      Effect.gen(function*() {
        if (!(yield* FiberMap.has(fibers, m.spec.name))) return
        yield* update(m, () => ({ state: "stopping" }))
        yield* Effect.logInfo(`stopping (${m.spec.stopSignal}, SIGKILL after ${Duration.format(m.spec.stopTimeout)})`)
        yield* FiberMap.remove(fibers, m.spec.name)
      }).pipe(Effect.annotateLogs({ server: m.spec.name }))

    const resolve = (target: string) =>
      Effect.suspend((): Effect.Effect<Managed, UnknownServer | AmbiguousServer> => {
        const byName = servers.find((m) => m.spec.name === target)
        if (byName) return Effect.succeed(byName)
        const byCommand = servers.filter((m) => m.spec.command === target.trim())
        if (byCommand.length === 1) return Effect.succeed(byCommand[0]!)
        return byCommand.length > 1
          ? Effect.fail(new AmbiguousServer({ target, candidates: byCommand.map((m) => m.spec.name) }))
          : Effect.fail(new UnknownServer({ target, known: servers.map((m) => m.spec.name) }))
      })

    /** Run `f` on the current server for `target`, holding its lock. */
    const withServer = <A, E>(
      target: string,
      f: (m: Managed) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | UnknownServer | AmbiguousServer> =>
      Effect.flatMap(resolve(target), (m) =>
        m.lock.withPermits(1)(Effect.suspend(() => (m.retired ? withServer(target, f) : f(m)))))

    const restartServer = (m: Managed) => atomically(Effect.zipRight(Effect.zipRight(halt(m), launch(m)), statusOf(m)))

    const isActive = (m: Managed) => FiberMap.has(fibers, m.spec.name)

    const apply = (specs: ReadonlyArray<ServerSpec>) =>
      structure.withPermits(1)(atomically(Effect.gen(function*() {
        const wanted = new Map(specs.map((spec) => [spec.name, spec]))
        const current = new Map(servers.map((m) => [m.spec.name, m]))
        const removed = servers.filter((m) => !wanted.has(m.spec.name))
        const changed = servers.filter((m) => {
          const spec = wanted.get(m.spec.name)
          return spec !== undefined && !sameSpec(spec, m.spec)
        })
        const make = (spec: ServerSpec) =>
          Effect.map(SubscriptionRef.make(initialInfo), (info): Managed => ({
            spec,
            info,
            lock: Effect.unsafeMakeSemaphore(1),
            retired: false
          }))
        const next = yield* Effect.forEach(specs, (spec) => {
          const existing = current.get(spec.name)
          return existing !== undefined && sameSpec(spec, existing.spec) ? Effect.succeed(existing) : make(spec)
        })
        const retire = (m: Managed) =>
          m.lock.withPermits(1)(Effect.suspend(() => {
            m.retired = true
            return halt(m)
          }))
        yield* Effect.forEach([...removed, ...changed], retire, { concurrency: "unbounded", discard: true })
        yield* Effect.forEach(removed, (m) => logs.forget(m.spec.name), { discard: true })
        servers = next
        yield* bumpRevision
        const fresh = next.filter((m) => !current.has(m.spec.name) || changed.some((c) => c.spec.name === m.spec.name))
        yield* Effect.forEach(fresh.filter((m) => m.spec.autostart), launch, { concurrency: "unbounded", discard: true })
        const result = {
          added: specs.filter((s) => !current.has(s.name)).map((s) => s.name),
          removed: removed.map((m) => m.spec.name),
          changed: changed.map((m) => m.spec.name),
          unchanged: next.filter((m) => !fresh.includes(m)).map((m) => m.spec.name)
        }
        yield* Effect.logInfo("config applied").pipe(Effect.annotateLogs({
          added: result.added.join(","),
          removed: result.removed.join(","),
          changed: result.changed.join(","),
          unchanged: result.unchanged.length
        }))
        return result
      })))

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Effect.logInfo(`stopping ${servers.length} server(s)`)
        yield* Effect.forEach(servers, (m) => update(m, (info) => (info.pid === null ? {} : { state: "stopping" })), { discard: true })
      })
    )

    return Supervisor.of({
      status: Effect.suspend(() => Effect.forEach(servers, statusOf)),
      states: revision.changes.pipe(
        Stream.mapEffect(() => Effect.suspend(() => Effect.forEach(servers, (m) => Effect.map(SubscriptionRef.get(m.info), (info) => info.state))))
      ),
      restart: (target) => withServer(target, restartServer),
      // holding the structure lock: no reload can retire a server meanwhile
      restartAll: structure.withPermits(1)(Effect.suspend(() =>
        Effect.forEach(servers, (m) => m.lock.withPermits(1)(restartServer(m)), { concurrency: "unbounded" })
      )),
      start: (target) =>
        withServer(target, (m) =>
          atomically(Effect.gen(function*() {
            if (yield* isActive(m)) {
              return yield* new BadState({ name: m.spec.name, state: (yield* SubscriptionRef.get(m.info)).state, action: "start" })
            }
            yield* launch(m)
            return yield* statusOf(m)
          }))),
      stop: (target) =>
        withServer(target, (m) =>
          atomically(Effect.gen(function*() {
            if (!(yield* isActive(m))) {
              return yield* new BadState({ name: m.spec.name, state: (yield* SubscriptionRef.get(m.info)).state, action: "stop" })
            }
            yield* halt(m)
            return yield* statusOf(m)
          }))),
      logs: (target, options) => Stream.unwrap(Effect.map(resolve(target), (m) => logs.read(m.spec.name, options))),
      apply
    })
  })
)
