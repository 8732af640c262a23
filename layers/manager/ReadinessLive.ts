// Keeps the service manager informed: READY=1 once the daemon is up, STATUS= with the servers'
// states, STOPPING=1 when it stops. Does nothing when no service manager listens.
import { Duration, Effect, Layer, Queue, Stream } from "effect"
import { ServiceManager, type ServiceNotification } from "../../services/manager/ServiceManager.js"
import { Supervisor } from "../../services/manager/Supervisor.js"
import type { ServerState } from "../../src/protocol/ManagerRpcs.js"

const stateOrder: ReadonlyArray<ServerState> = ["running", "starting", "backoff", "stopping", "stopped", "exited"]

/** "5 running, 1 backoff": how many servers are in each state; states no server is in are left out. */
export const describeStates = (states: ReadonlyArray<ServerState>): string =>
  states.length === 0 ? "no servers" : stateOrder.flatMap((state) => {
    const count = states.filter((s) => s === state).length
    return count === 0 ? [] : [`${count} ${state}`]
  }).join(", ")

/** At most one STATUS= per interval: each is a process, and a crash loop changes states far more often. */
export const statusInterval = Duration.seconds(1)
const settleTime = Duration.millis(200)

/**
 * Build this after the rest of the daemon: READY=1 then goes out only once every autostart server
 * has been spawned and the control socket answers, and its release (first of all) sends STOPPING=1
 * before any server is stopped.
 */
export const ReadinessLive = Layer.scopedDiscard(Effect.gen(function*() {
  const manager = yield* ServiceManager
  if (!manager.listening) return
  const supervisor = yield* Supervisor

  let failing = false
  // A failed notification is logged, never fatal; once per episode, so a broken notifier cannot flood the log.
  const tell = (notification: ServiceNotification) =>
    manager.notify(notification).pipe(
      Effect.zipRight(Effect.sync(() => (failing = false))),
      Effect.catchAll((error) =>
        failing ? Effect.void : Effect.zipRight(Effect.sync(() => (failing = true)), Effect.logWarning(error.message))
      )
    )
  const states = Effect.map(supervisor.status, (servers) => servers.map((s) => s.state))

  let shown = describeStates(yield* states)
  yield* tell({ ready: true, status: shown })
  // Added before the reporter is forked, so it runs after the reporter is interrupted: no STATUS= after it.
  yield* Effect.addFinalizer(() =>
    Effect.flatMap(states, (now) => tell({ stopping: true, status: `stopping: ${describeStates(now)}` }))
  )
  // The states stream only wakes the reporter; it then waits a moment for a burst of changes to
  // settle (a restart passes through exited, backoff and starting in milliseconds) and reports the
  // states as they are then. A sliding queue of one wake-up keeps memory bounded whatever the rate.
  const wake = yield* Queue.sliding<void>(1)
  yield* supervisor.states.pipe(Stream.runForEach(() => Queue.offer(wake, undefined)), Effect.forkScoped)
  yield* Effect.gen(function*() {
    yield* Queue.take(wake)
    yield* Effect.sleep(settleTime)
    const line = describeStates(yield* states)
    if (line === shown) return
    yield* tell({ status: line })
    shown = line
    yield* Effect.sleep(statusInterval)
  }).pipe(Effect.forever, Effect.forkScoped)
}))
