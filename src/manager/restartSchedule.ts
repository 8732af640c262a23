// When to start a server again after it ended.
import { Duration, Effect, Schedule, ScheduleDecision, ScheduleInterval, Schema } from "effect"
import type { Backoff, RestartPolicy } from "./ServerSpec.js"

/** One run of a server ended (its main process exited). */
export class ServerExited extends Schema.TaggedError<ServerExited>("mcp-manager/ServerExited")("ServerExited", {
  pid: Schema.Number,
  code: Schema.NullOr(Schema.Number),
  signal: Schema.NullOr(Schema.String),
  uptime: Schema.DurationFromSelf
}) {}

/** A run ended: its process exited, or it never started (services/manager/ChildProcesses.ts' SpawnFailed, by shape). */
export type RunEnded = ServerExited | { readonly _tag: "SpawnFailed"; readonly reason: string }

const failed = (end: RunEnded) => end._tag === "SpawnFailed" || end.signal !== null || end.code !== 0

export const shouldRestart = (policy: RestartPolicy, end: RunEnded): boolean =>
  policy === "always" || (policy === "on-failure" && failed(end))

/** A run that lasted `resetAfter` was healthy: its end is not part of a crash loop. */
const healthy = (backoff: Backoff) => (end: RunEnded) =>
  end._tag === "ServerExited" && Duration.greaterThanOrEqualTo(end.uptime, backoff.resetAfter)

/**
 * After a healthy run (one that lasted `resetAfter`) the server starts again at once, as the
 * backoff starts over. Otherwise exponential backoff with jitter: `initial`, ×`factor` per
 * consecutive failure, capped at `max` (a crash loop never gives up, it just retries at the capped
 * pace). Jitter only shortens a delay (×0.8–1.0), so `max` is a true bound and servers that crashed
 * together do not restart in lockstep. Outputs the delay chosen and the end of the run it follows.
 */
export const restartSchedule = (policy: RestartPolicy, backoff: Backoff) => {
  const delays = Schedule.exponential(backoff.initial, backoff.factor).pipe(
    Schedule.union(Schedule.spaced(backoff.max)),
    Schedule.jitteredWith({ min: 0.8, max: 1 }),
    Schedule.delays
  )
  const wasHealthy = healthy(backoff)
  return Schedule.makeWithState(delays.initial, (now, end: RunEnded, state) =>
    wasHealthy(end)
      ? Effect.succeed([delays.initial, [Duration.zero, end] as const, ScheduleDecision.continueWith(ScheduleInterval.after(now))] as const)
      : Effect.map(delays.step(now, end, state), ([next, delay, decision]) => [next, [delay, end] as const, decision] as const)
  ).pipe(Schedule.whileInput((end: RunEnded) => shouldRestart(policy, end)))
}
