// What the daemon tells systemd, with the service manager and the supervisor swapped for recorders.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Ref, Scope, Stream, SubscriptionRef, TestClock } from "effect"
import { describeStates, ReadinessLive } from "../layers/manager/ReadinessLive.js"
import { ServiceManager, type ServiceNotification } from "../services/manager/ServiceManager.js"
import { Supervisor } from "../services/manager/Supervisor.js"
import type { ServerState } from "../src/protocol/ManagerRpcs.js"
import { serverStatus } from "./support/serverStatus.js"

const status = (name: string, state: ServerState) => serverStatus({ name, command: name, state })

const unused = Effect.dieMessage("not used by ReadinessLive")

/** A supervisor whose servers' states the test sets, and a service manager that records what it is told. */
const harness = (listening: boolean, initial: ReadonlyArray<ServerState>) =>
  Effect.gen(function*() {
    const states = yield* SubscriptionRef.make(initial)
    const told = yield* Ref.make<ReadonlyArray<ServiceNotification>>([])
    const supervisor = Layer.succeed(Supervisor, Supervisor.of({
      status: Effect.map(SubscriptionRef.get(states), (now) => now.map((state, i) => status(`s${i}`, state))),
      states: states.changes,
      restart: () => unused,
      restartAll: unused,
      start: () => unused,
      stop: () => unused,
      logs: () => Stream.die("not used"),
      apply: () => unused
    }))
    const manager = Layer.succeed(ServiceManager, ServiceManager.of({
      listening,
      notify: (notification) => Ref.update(told, (all) => [...all, notification])
    }))
    const scope = yield* Scope.make()
    yield* Layer.buildWithScope(ReadinessLive.pipe(Layer.provide(Layer.merge(supervisor, manager))), scope)
    return { states, told: Ref.get(told), scope }
  })

describe("describeStates", () => {
  it("counts servers per state, leaving out empty states", () => {
    expect(describeStates(["running", "backoff", "running", "running", "running", "running"])).toBe("5 running, 1 backoff")
    expect(describeStates(["exited", "stopped", "running"])).toBe("1 running, 1 stopped, 1 exited")
    expect(describeStates([])).toBe("no servers")
  })
})

describe("ReadinessLive", () => {
  it.effect("sends READY=1 with the status, then STATUS= at most once a second ending on the newest, then STOPPING=1", () =>
    Effect.gen(function*() {
      const { scope, states, told } = yield* harness(true, ["running", "running"])
      expect(yield* told).toEqual([{ ready: true, status: "2 running" }])

      // a crash loop: a change every 10 ms for 3 s
      const flapping: ReadonlyArray<ReadonlyArray<ServerState>> = [["running", "backoff"], ["running", "starting"], ["running", "running"]]
      for (let i = 0; i < 300; i++) {
        yield* SubscriptionRef.set(states, flapping[i % 3]!)
        yield* TestClock.adjust("10 millis")
      }
      const updates = (yield* told).slice(1)
      // one a second (after a short settling pause), not one per change
      expect(updates.length).toBeGreaterThanOrEqual(2)
      expect(updates.length).toBeLessThanOrEqual(3)

      // the last word is the newest state
      yield* SubscriptionRef.set(states, ["exited", "backoff"])
      yield* TestClock.adjust("2 seconds")
      const afterwards = yield* told
      expect(afterwards.at(-1)).toEqual({ status: "1 backoff, 1 exited" })

      // no change, nothing sent
      yield* TestClock.adjust("5 seconds")
      expect((yield* told).length).toBe(afterwards.length)

      yield* Scope.close(scope, Exit.void)
      expect((yield* told).at(-1)).toEqual({ stopping: true, status: "stopping: 1 backoff, 1 exited" })
    }))

  it.effect("tells nothing when no service manager listens", () =>
    Effect.gen(function*() {
      const { scope, states, told } = yield* harness(false, ["running"])
      yield* SubscriptionRef.set(states, ["backoff"])
      yield* TestClock.adjust("5 seconds")
      yield* Scope.close(scope, Exit.void)
      expect(yield* told).toEqual([])
    }))
})
