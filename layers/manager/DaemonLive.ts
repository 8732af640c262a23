// Daemon: loads the config at start (refusing a bad one), applies it, and reloads on SIGHUP or request.
import { DateTime, Effect, Layer, Runtime } from "effect"
import { ConfigSource } from "../../services/manager/ConfigSource.js"
import { Daemon } from "../../services/manager/Daemon.js"
import { Supervisor } from "../../services/manager/Supervisor.js"
import { DaemonInfo, ReloadResult } from "../../src/protocol/ManagerRpcs.js"
import { version } from "../../src/protocol/version.js"

export const DaemonLive = (socket: string) =>
  Layer.scoped(
    Daemon,
    Effect.gen(function*() {
      const config = yield* ConfigSource
      const supervisor = yield* Supervisor
      const startedAt = yield* DateTime.now
      const runtime = yield* Effect.runtime<never>()

      const reload = config.load.pipe(
        Effect.tap(({ skipped }) => Effect.forEach(skipped, (note) => Effect.logWarning(`not supervised: ${note}`))),
        Effect.flatMap(({ skipped, specs }) =>
          Effect.map(supervisor.apply(specs), (applied) => new ReloadResult({ ...applied, skipped }))
        ),
        Effect.tapError((error) => Effect.logError(`config not applied, the running servers stay as they were: ${error.message}`))
      )

      // Installed before anything slow: SIGHUP's default action would kill the daemon.
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          const onHangup = () => Runtime.runFork(runtime)(Effect.logInfo("SIGHUP: reloading the config").pipe(Effect.zipRight(reload), Effect.ignore))
          process.on("SIGHUP", onHangup)
          return onHangup
        }),
        (onHangup) => Effect.sync(() => process.off("SIGHUP", onHangup))
      )

      const initial = yield* config.load
      yield* Effect.forEach(initial.skipped, (note) => Effect.logWarning(`not supervised: ${note}`))
      yield* Effect.logInfo(`config ${config.file}: ${initial.specs.length} server(s)`)
      yield* supervisor.apply(initial.specs)

      return Daemon.of({
        info: Effect.succeed(new DaemonInfo({ version, pid: process.pid, startedAt, configFile: config.file, socket })),
        reload
      })
    })
  )
