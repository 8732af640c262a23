import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, Random, Schedule, TestClock } from "effect"
import { SpawnFailed } from "../services/manager/ChildProcesses.js"
import { restartSchedule, ServerExited } from "../src/manager/restartSchedule.js"
import { Backoff } from "../src/manager/ServerSpec.js"

const crash = (uptimeMs = 0) => new ServerExited({ pid: 1, code: 1, signal: null, uptime: Duration.millis(uptimeMs) })
const cleanExit = new ServerExited({ pid: 1, code: 0, signal: null, uptime: Duration.seconds(1) })
const backoff = new Backoff({
  initial: Duration.millis(100),
  max: Duration.seconds(2),
  factor: 2,
  resetAfter: Duration.seconds(10)
})

const delaysFor = (policy: "always" | "on-failure" | "never", ends: ReadonlyArray<ServerExited | SpawnFailed>) =>
  Schedule.run(restartSchedule(policy, backoff), 0, ends).pipe(Effect.map((out) => Chunk.toArray(out).map(([delay]) => Duration.toMillis(delay))))

/** Jitter may only shorten a delay, by at most 20%. */
const expectJittered = (actual: ReadonlyArray<number>, nominal: ReadonlyArray<number>) => {
  expect(actual).toHaveLength(nominal.length)
  actual.forEach((ms, i) => {
    expect(ms).toBeLessThanOrEqual(nominal[i]!)
    expect(ms).toBeGreaterThanOrEqual(nominal[i]! * 0.8)
  })
}

describe("restartSchedule", () => {
  it.effect("doubles from the initial delay up to the cap and keeps retrying there", () =>
    Effect.gen(function*() {
      const delays = yield* delaysFor("always", Array.from({ length: 10 }, () => crash()))
      expectJittered(delays, [100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000, 2000])
    }))

  it.effect("jitter spreads the delays over 0.8–1.0 × the nominal delay (fixed seed)", () =>
    Effect.gen(function*() {
      // 50 runs at the cap: nominal 2000 ms each. A fixed seed, so the draw is the same every run.
      const delays = yield* delaysFor("always", Array.from({ length: 55 }, () => crash())).pipe(
        Effect.map((all) => all.slice(5)),
        Effect.withRandom(Random.make(13))
      )
      expect(delays).toHaveLength(50)
      expectJittered(delays, delays.map(() => 2000))
      expect(new Set(delays).size).toBeGreaterThan(25)
      expect(Math.min(...delays)).toBeLessThan(0.9 * 2000)
      expect(Math.max(...delays)).toBeGreaterThan(0.95 * 2000)
    }))

  it.effect("after a run longer than resetAfter the server starts again at once, and the backoff starts over", () =>
    Effect.gen(function*() {
      const delays = yield* delaysFor("always", [crash(), crash(), crash(), crash(60_000), crash(), crash(10_000), crash(9_999)])
      expectJittered(delays, [100, 200, 400, 0, 100, 0, 100])
    }))

  /** How many times a server runs when its runs end as given, under Effect.retry. */
  const runsUntilGivenUp = (policy: "always" | "on-failure" | "never", ends: ReadonlyArray<ServerExited | SpawnFailed>) =>
    Effect.gen(function*() {
      let runs = 0
      const fiber = yield* Effect.suspend(() => Effect.fail(ends[runs++]!)).pipe(
        Effect.retry(restartSchedule(policy, backoff)),
        Effect.fork
      )
      yield* TestClock.adjust("1 minute")
      yield* Fiber.await(fiber)
      return runs
    })

  it.effect("on-failure gives up after a clean exit, never after any exit; spawn failures are failures", () =>
    Effect.gen(function*() {
      expect(yield* runsUntilGivenUp("on-failure", [crash(), crash(), cleanExit, crash()])).toBe(3)
      expect(yield* runsUntilGivenUp("never", [crash(), crash()])).toBe(1)
      const notFound = new SpawnFailed({ server: "x", reason: "command not found" })
      expect(yield* runsUntilGivenUp("on-failure", [notFound, notFound, cleanExit])).toBe(3)
      const killed = new ServerExited({ pid: 1, code: null, signal: "SIGKILL", uptime: Duration.seconds(1) })
      expect(yield* runsUntilGivenUp("on-failure", [killed, cleanExit])).toBe(2)
    }))

  it.effect("drives Effect.retry: a crash loop makes a bounded number of attempts (TestClock)", () =>
    Effect.gen(function*() {
      let attempts = 0
      const run = Effect.suspend(() => {
        attempts++
        return Effect.fail(crash())
      })
      const fiber = yield* run.pipe(Effect.retry(restartSchedule("always", backoff)), Effect.fork)
      yield* TestClock.adjust("10 seconds")
      // 0, 0.1, 0.3, 0.7, 1.5, 3.1, 5.1, 7.1, 9.1 s at the nominal delays; jitter can only add attempts
      // by shortening delays, never more than one every 0.8 × 2 s once capped.
      expect(attempts).toBeGreaterThanOrEqual(9)
      expect(attempts).toBeLessThanOrEqual(12)
      yield* Fiber.interrupt(fiber)
    }))
})
