// When to start a server again after it ended.
import { Data, Duration, Schedule } from "effect"
import type { SpawnFailed } from "../services/ChildProcesses.js"
import type { Backoff, RestartPolicy } from "./ServerSpec.js"

/** One run of a server ended (its main process exited). */
export class ServerExited extends Data.TaggedError("ServerExited")<{
  readonly pid: number
  readonly code: number | null
  readonly signal: string | null
  readonly uptime: Duration.Duration
}> {}

export type RunEnded = ServerExited | SpawnFailed

const failed = (end: RunEnded) => end._tag === "SpawnFailed" || end.signal !== null || end.code !== 0

export const shouldRestart = (policy: RestartPolicy, end: RunEnded): boolean =>
  policy === "always" || (policy === "on-failure" && failed(end))

/**
 * Exponential backoff with jitter: `initial`, ×`factor` per consecutive failure, capped at `max`
 * (a crash loop never gives up, it just retries at the capped pace), back to `initial` after a run
 * that lasted `resetAfter`. Jitter only shortens a delay (×0.8–1.0), so `max` is a true bound and
 * servers that crashed together do not restart in lockstep. Outputs the delay chosen and the end
 * of the run it follows.
 */
export const restartSchedule = (policy: RestartPolicy, backoff: Backoff) =>
  Schedule.exponential(backoff.initial, backoff.factor).pipe(
    Schedule.union(Schedule.spaced(backoff.max)),
    Schedule.jitteredWith({ min: 0.8, max: 1 }),
    Schedule.delays,
    Schedule.intersect(Schedule.identity<RunEnded>()),
    Schedule.resetWhen(([, end]) =>
      end._tag === "ServerExited" && Duration.greaterThanOrEqualTo(end.uptime, backoff.resetAfter)
    ),
    Schedule.whileInput((end: RunEnded) => shouldRestart(policy, end))
  )
