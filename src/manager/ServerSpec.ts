// src/manager/: the supervisor's domain, pure (no I/O): the two config formats (config/) decode
// into ServerSpec (this file); restartSchedule says when a server starts again; statusTable and
// socketPath serve mcpctl too.
//
// The normalised description of one supervised server. Both config formats decode into this.
import { Duration, Schema } from "effect"

/** Server names appear in commands, file names and log lines: keep them to a safe alphabet. */
export const ServerName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: () => "a name of 1-64 characters from A-Z a-z 0-9 . _ - (not starting with . _ -)"
  })
)

export const RestartPolicy = Schema.Literal("always", "on-failure", "never")
export type RestartPolicy = typeof RestartPolicy.Type

/** Signals a server may ask to be stopped with. */
export const StopSignal = Schema.Literal(
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGKILL"
)
export type StopSignal = typeof StopSignal.Type

export class Backoff extends Schema.Class<Backoff>("Backoff")({
  /** Delay before the first restart. */
  initial: Schema.DurationFromMillis,
  /** Upper bound of the delay: a crash loop keeps retrying at this pace, never gives up. */
  max: Schema.DurationFromMillis,
  factor: Schema.Number,
  /** An uptime at least this long counts as a healthy run and resets the delay to `initial`. */
  resetAfter: Schema.DurationFromMillis
}) {
  static readonly defaults = new Backoff({
    initial: Duration.millis(100),
    max: Duration.seconds(30),
    factor: 2,
    resetAfter: Duration.seconds(10)
  })
}

/** How the process is started: a /bin/sh command line (seed format) or an argv (JSON format). */
export const Launch = Schema.Union(
  Schema.TaggedStruct("Shell", { line: Schema.String }),
  Schema.TaggedStruct("Exec", { file: Schema.String, args: Schema.Array(Schema.String) })
)
export type Launch = typeof Launch.Type

export class ServerSpec extends Schema.Class<ServerSpec>("ServerSpec")({
  name: ServerName,
  /** The command exactly as the user wrote it; `mcpctl restart` accepts it in place of the name. */
  command: Schema.String,
  launch: Launch,
  /** Added to (and overriding) the daemon's own environment. */
  env: Schema.Record({ key: Schema.String, value: Schema.String }),
  /** Absolute working directory. */
  cwd: Schema.String,
  autostart: Schema.Boolean,
  restart: RestartPolicy,
  backoff: Backoff,
  stopSignal: StopSignal,
  stopTimeout: Schema.DurationFromMillis
}) {}

export const defaultStopTimeout = Duration.seconds(10)

const encodeSpec = Schema.encodeSync(ServerSpec)

/** Two specs are the same server configuration (a reload leaves such a server untouched). */
export const sameSpec = (a: ServerSpec, b: ServerSpec): boolean =>
  JSON.stringify(encodeSpec(a)) === JSON.stringify(encodeSpec(b))
