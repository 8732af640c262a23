// layers/interpreter/: the interpreter's live Layers, <Service>Live.ts, the only interpreter code
// that touches Docker, host files and HTTP; internal/ holds helpers private to them. src/server.ts
// wires them.
//
// Sessions: an RcMap of sessions (idle TTL, capacity) whose entries own a persistent interpreter.
// Each session runs as its own uid (base + slot), so sessions cannot touch each other's files or
// processes, and ending a session can kill every process of that uid.
import { Cause, Duration, Effect, Exit, Layer, Queue, RcMap, Scope } from "effect"
import * as Crypto from "node:crypto"
import { Sandbox, SandboxUnavailable } from "../../services/interpreter/Sandbox.js"
import { type SessionContext, SessionLimitReached, Sessions, UnknownSession } from "../../services/interpreter/Sessions.js"
import { endSession } from "../../src/interpreter/pythonPrograms.js"
import type { RunOptions, RunRequest, RunResult } from "../../src/interpreter/runTypes.js"
import type { InterpreterLost, PythonInterpreter, RunOutcome } from "../../services/interpreter/PythonInterpreter.js"
import { startInterpreter } from "./internal/pythonInterpreter.js"

export interface SessionSettings {
  readonly sessionTtl: Duration.Duration
  readonly sessionMax: number
  readonly timeout: Duration.Duration
  readonly maxOutput: number
  readonly sessionProcs: number
  readonly sessionUidBase: number | undefined
  readonly memory: number
  readonly user: { readonly uid: number; readonly gid: number }
}

/** Calls without session_id run in temporary sessions; this many at once, the rest wait. */
const temporaryConcurrency = 8

interface Session {
  readonly id: string
  readonly slot: number
  readonly dir: string
  readonly user: string
  readonly home: string
  readonly lock: Effect.Semaphore
  interpreter: { readonly value: PythonInterpreter; readonly scope: Scope.CloseableScope } | undefined
  /** Container generation the session's directory lives in (undefined: not created yet). */
  generation: number | undefined
}

const formatBytes = (n: number) => (n >= 1024 ** 3 ? `${n / 1024 ** 3} GiB` : `${Math.round(n / 1024 ** 2)} MiB`)

export const SessionsLive = (settings: SessionSettings) =>
  Layer.scoped(
    Sessions,
    Effect.gen(function*() {
      const sandbox = yield* Sandbox
      const known = new Set<string>()
      const freeSlots = yield* Queue.unbounded<number>()
      yield* Queue.offerAll(freeSlots, Array.from({ length: settings.sessionMax }, (_, i) => i + 1))
      const temporarySlots = yield* Queue.unbounded<number>()
      yield* Queue.offerAll(temporarySlots, Array.from({ length: temporaryConcurrency }, (_, i) => settings.sessionMax + i + 1))
      const sharedUser = `${settings.user.uid}:${settings.user.gid}`
      // RLIMIT_NPROC counts per uid across the whole host: each server gets uids of its own
      const uidBase = settings.sessionUidBase ?? 100_000 + 2000 * Crypto.randomInt(0, 50_000)
      const timeoutText = (limit: Duration.Duration) =>
        Duration.equals(limit, settings.timeout) ? `${Duration.format(limit)} (PY_EXEC_TIMEOUT)` : Duration.format(limit)

      const newSession = (id: string, slot: number): Session => {
        const uid = uidBase + slot
        return {
          id,
          slot,
          dir: `/workspace/sessions/${id}`,
          user: `${uid}:${settings.user.gid}`,
          home: `/tmp/home-${uid}`,
          lock: Effect.unsafeMakeSemaphore(1),
          interpreter: undefined,
          generation: undefined
        }
      }

      const stopInterpreter = (session: Session) =>
        Effect.suspend(() => {
          const running = session.interpreter
          session.interpreter = undefined
          return running === undefined ? Effect.void : Scope.close(running.scope, Exit.void)
        })

      /** Kill every process of the session's uid; optionally remove its directory and home. */
      const killSessionProcesses = (session: Session, removeDir: boolean) =>
        Effect.scoped(Effect.gen(function*() {
          const cleaner = yield* sandbox.exec(["python", "-c", endSession, ...(removeDir ? [session.dir, session.home] : [])], { user: session.user })
          cleaner.stdout.resume()
          cleaner.stderr.resume()
          // no cleanup: the stream is the cleaner's, destroyed when this scope closes (also on the timeout)
          yield* Effect.async<void>((resume) => {
            cleaner.stdout.once("end", () => resume(Effect.void))
          })
        })).pipe(Effect.timeout("15 seconds"), Effect.ignore)

      const endSessionNow = (session: Session) =>
        Effect.gen(function*() {
          yield* stopInterpreter(session)
          yield* killSessionProcesses(session, true)
        })

      /** The session's interpreter, started (again) when there is none; notes say what was lost. */
      const ensureInterpreter = (session: Session, notes: Array<string>) =>
        Effect.gen(function*() {
          if (session.interpreter !== undefined) return session.interpreter.value
          const scope = yield* Scope.make()
          const interpreter = yield* startInterpreter({
            dir: session.dir,
            user: session.user,
            home: session.home,
            procs: settings.sessionProcs
          }).pipe(
            Scope.extend(scope),
            Effect.provideService(Sandbox, sandbox),
            Effect.tapErrorCause(() => Scope.close(scope, Exit.void)),
            Effect.catchTag("InterpreterLost", (lost) =>
              // a driver that cannot start is a sandbox problem (image, limits), not the user's code
              Effect.fail(
                new SandboxUnavailable({
                  reason: `the Python interpreter did not start${lost.exitCode === null ? "" : ` (exit code ${lost.exitCode})`}: ${lost.detail || "no output"}`,
                  cause: lost
                })
              ))
          )
          if (session.generation !== undefined && session.generation !== interpreter.generation) {
            notes.push("the sandbox container was replaced (it stopped or was removed): this session's files and variables from before are gone")
          }
          session.generation = interpreter.generation
          session.interpreter = { value: interpreter, scope }
          return interpreter
        })

      const explainLoss = (lost: InterpreterLost, stillRunning: boolean, overMemory: boolean, limit: Duration.Duration): string => {
        if (!stillRunning && overMemory) {
          return `the sandbox container was stopped by the sandbox memory limit of ${formatBytes(settings.memory)} (PY_EXEC_MEMORY), ` +
            "with every session's files and variables (under gVisor the limit ends the whole sandbox, not one process); the next call starts a new one"
        }
        if (!stillRunning) return "the sandbox container stopped during the call (killed from outside?); the next call starts a new one"
        if (lost.detail === "did not stop after KeyboardInterrupt") {
          return `timed out after ${timeoutText(limit)} and did not stop when interrupted: the session's interpreter was killed, its variables are lost; the next call starts a fresh one`
        }
        if (lost.exitCode === 137) {
          return `the interpreter was killed (SIGKILL), most likely by the sandbox memory limit of ${formatBytes(settings.memory)} (PY_EXEC_MEMORY); its variables are lost, the next call starts a fresh one`
        }
        return `the interpreter exited${lost.exitCode === null ? "" : ` with code ${lost.exitCode}`}${lost.detail ? ` (${lost.detail.split("\n").at(-1)})` : ""}; its variables are lost, the next call starts a fresh one`
      }

      const toResult = (session: Session, temporary: boolean, outcome: RunOutcome, notes: ReadonlyArray<string>, limit: Duration.Duration): RunResult => ({
        sessionId: temporary ? null : session.id,
        status: outcome.interrupted ? "timeout" : outcome.error !== null ? "error" : "ok",
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        cut: outcome.cut,
        error: outcome.error,
        value: outcome.value,
        valueKind: outcome.valueKind,
        figures: outcome.figures,
        seconds: outcome.seconds,
        notes: [
          ...notes,
          ...outcome.notes,
          ...(outcome.interrupted
            ? [`timed out after ${timeoutText(limit)}: interrupted with KeyboardInterrupt; the session's variables are kept`]
            : [])
        ]
      })

      const runIn = (session: Session, temporary: boolean, request: RunRequest, options: RunOptions = {}) =>
        Effect.gen(function*() {
          const notes: Array<string> = []
          const interpreter = yield* ensureInterpreter(session, notes)
          const started = Date.now()
          const limit = options.timeout ?? settings.timeout
          return yield* interpreter.run(request, {
            cap: settings.maxOutput,
            timeout: limit,
            ...(options.onOutput ? { onOutput: options.onOutput } : {})
          }).pipe(
            Effect.map((outcome) => toResult(session, temporary, outcome, notes, limit)),
            Effect.catchTag("InterpreterLost", (lost) =>
              Effect.gen(function*() {
                // killed by a signal (exit 137, or no exit code at all) is how a container kill looks too;
                // 128 is gVisor's exec when the sandbox died under it (runsc could not wait for the process)
                const killed = lost.exitCode === null || lost.exitCode === 137 || lost.exitCode === 128
                const stillRunning = yield* sandbox.alive(interpreter.generation, killed ? "3 seconds" : 0)
                yield* stopInterpreter(session)
                if (stillRunning) yield* killSessionProcesses(session, false)
                const overMemory = !stillRunning && (yield* sandbox.stoppedForMemory(interpreter.generation))
                const timedOut = lost.detail === "did not stop after KeyboardInterrupt" && !overMemory
                return {
                  sessionId: temporary ? null : session.id,
                  status: timedOut ? "timeout" : "crashed",
                  stdout: "",
                  stderr: "",
                  cut: { stdout: 0, stderr: 0 },
                  error: null,
                  value: null,
                  valueKind: null,
                  figures: [],
                  seconds: (Date.now() - started) / 1000,
                  notes: [...notes, explainLoss(lost, stillRunning, overMemory, limit)]
                } satisfies RunResult
              })
            )
          )
        })

      const sessions = yield* RcMap.make({
        lookup: (id: string) =>
          Effect.gen(function*() {
            const session = yield* Effect.acquireRelease(
              Effect.map(Queue.take(freeSlots), (slot) => newSession(id, slot)),
              (session) =>
                Effect.gen(function*() {
                  known.delete(session.id)
                  yield* session.lock.withPermits(1)(endSessionNow(session))
                  yield* Queue.offer(freeSlots, session.slot)
                  yield* Effect.logInfo(`session ${session.id} ended`)
                })
            )
            // start the interpreter now, so the first call finds it ready (interrupted if the session ends first)
            yield* session.lock.withPermits(1)(ensureInterpreter(session, [])).pipe(Effect.ignore, Effect.forkScoped)
            return session
          }),
        idleTimeToLive: settings.sessionTtl,
        capacity: settings.sessionMax
      })

      const lookup = (id: string) =>
        known.has(id)
          ? RcMap.get(sessions, id).pipe(
            Effect.catchIf(Cause.isExceededCapacityException, () => Effect.fail(new UnknownSession({ sessionId: id })))
          )
          : Effect.fail(new UnknownSession({ sessionId: id }))

      /** A session for one call, deleted right after (its uid comes from a separate pool). */
      const temporary = Effect.acquireRelease(
        Effect.map(Queue.take(temporarySlots), (slot) => newSession(`tmp-${Crypto.randomUUID().slice(0, 8)}`, slot)),
        (session) => Effect.zipRight(endSessionNow(session), Queue.offer(temporarySlots, session.slot))
      )

      const withSession = <A, E>(sessionId: string | undefined, f: (session: Session, temporary: boolean) => Effect.Effect<A, E>) =>
        Effect.scoped(
          sessionId === undefined
            ? Effect.flatMap(temporary, (s) => f(s, true))
            : Effect.flatMap(lookup(sessionId), (s) => s.lock.withPermits(1)(f(s, false)))
        )

      return Sessions.of({
        init: Effect.gen(function*() {
          yield* sandbox.ensure
          const id = Crypto.randomBytes(8).toString("hex")
          known.add(id)
          yield* Effect.scoped(RcMap.get(sessions, id)).pipe(
            Effect.catchIf(Cause.isExceededCapacityException, () => {
              known.delete(id)
              return Effect.fail(new SessionLimitReached({ max: settings.sessionMax }))
            })
          )
          yield* Effect.logInfo(`session ${id} started`)
          return id
        }),
        close: (sessionId) =>
          known.has(sessionId) ? RcMap.invalidate(sessions, sessionId) : Effect.fail(new UnknownSession({ sessionId })),
        run: (sessionId, request, options) =>
          withSession(sessionId, (session, isTemporary) => runIn(session, isTemporary, request, options)),
        inContext: (sessionId, f) =>
          sessionId === undefined
            ? Effect.zipRight(sandbox.ensure, f({ sessionId: null, dir: "/workspace", user: sharedUser }))
            : withSession(sessionId, (session) =>
              Effect.zipRight(
                ensureInterpreter(session, []), // makes sure the directory exists in the current container
                f({ sessionId: session.id, dir: session.dir, user: session.user } satisfies SessionContext)
              )),
        reset: Effect.gen(function*() {
          yield* Effect.forEach(Array.from(known), (id) => RcMap.invalidate(sessions, id), { discard: true })
          yield* sandbox.reset
        }),
        ids: Effect.sync(() => Array.from(known))
      })
    })
  )
