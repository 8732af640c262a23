// One persistent Python interpreter (the driver in src/interpreter/python/driver.py) running in the
// sandbox: send it code, collect its output events, interrupt it on timeout or cancellation.
import { Duration, Effect, Either, Queue, Schema } from "effect"
import { InterpreterLost, type PythonInterpreter, type RunOptions, type RunOutcome } from "../../../services/interpreter/PythonInterpreter.js"
import { Sandbox } from "../../../services/interpreter/Sandbox.js"
import { pythonDriver } from "../../../src/interpreter/pythonPrograms.js"
import { DriverEvent, type RunRequest } from "../../../src/interpreter/runTypes.js"

/** Time an interrupted run gets to unwind (its KeyboardInterrupt) before the interpreter is killed. */
const interruptGrace = Duration.seconds(3)
/** A channel line longer than this is not something the driver sends. */
const maxEventLine = 8 * 1024 * 1024

type Ended = { readonly t: "ended" }

const decodeEvent = Schema.decodeUnknownEither(Schema.parseJson(DriverEvent))

/** The head that was streamed, a note of how much was cut, and the last part of the output. */
const withTail = (head: string, cut: number, tail: string) =>
  cut === 0 ? head + tail : `${head}\n[... ${cut} bytes cut ...]\n${tail}`

export interface InterpreterSpec {
  readonly dir: string
  /** Numeric uid:gid. */
  readonly user: string
  readonly home: string
  readonly procs: number
}

export const startInterpreter = (spec: InterpreterSpec) =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox
    const process = yield* sandbox.exec(["python", "-u", "-c", pythonDriver, spec.dir, String(spec.procs)], {
      user: spec.user,
      workingDir: "/workspace",
      env: { HOME: spec.home, MPLCONFIGDIR: `${spec.home}/.matplotlib` }
    })
    const events = yield* Queue.unbounded<DriverEvent | Ended>()
    let diagnostics = ""
    process.stderr.setEncoding("utf8").on("data", (text: string) => {
      diagnostics = (diagnostics + text).slice(-4000)
    })
    let pending = ""
    process.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      pending += chunk
      let newline: number
      while ((newline = pending.indexOf("\n")) !== -1) {
        const decoded = decodeEvent(pending.slice(0, newline))
        pending = pending.slice(newline + 1)
        if (Either.isRight(decoded)) Queue.unsafeOffer(events, decoded.right)
      }
      if (pending.length > maxEventLine) pending = ""
    })
    process.stdout.on("end", () => Queue.unsafeOffer(events, { t: "ended" }))

    const lost = Effect.gen(function*() {
      const exitCode = yield* process.exitCode
      return new InterpreterLost({ exitCode, detail: diagnostics.trim() })
    })

    const ready = yield* Queue.take(events).pipe(
      Effect.timeoutFail({
        duration: "60 seconds",
        onTimeout: () => new InterpreterLost({ exitCode: null, detail: "no answer from the interpreter within 60s" })
      }),
      Effect.flatMap((event) => (event.t === "ready" ? Effect.succeed(event) : Effect.flatMap(lost, Effect.fail)))
    )

    let nextId = 0
    const send = (message: unknown) =>
      Effect.sync(() => process.stdin.write(JSON.stringify(message) + "\n"))

    const run = (request: RunRequest, options: RunOptions) =>
      Effect.gen(function*() {
        const id = String(++nextId)
        const output = { stdout: "", stderr: "" }
        let interrupted = false

        /** Consume events until this run is done (or the interpreter ends). */
        const collect = Effect.gen(function*() {
          for (;;) {
            const event = yield* Queue.take(events)
            if (event.t === "ended") return yield* Effect.flatMap(lost, Effect.fail)
            if (event.t === "out" && event.id === id) {
              output[event.s] += event.d
              if (options.onOutput) yield* options.onOutput(event.s, event.d)
            } else if (event.t === "done" && event.id === id) {
              return { stdout: withTail(output.stdout, event.cut.stdout, event.tail.stdout), stderr: withTail(output.stderr, event.cut.stderr, event.tail.stderr), event }
            }
          }
        })

        const finish = (collected: Effect.Effect.Success<typeof collect>): RunOutcome => ({
          stdout: collected.stdout,
          stderr: collected.stderr,
          cut: collected.event.cut,
          error: collected.event.error,
          value: collected.event.value,
          valueKind: collected.event.value_kind,
          figures: collected.event.figures,
          seconds: collected.event.seconds,
          notes: collected.event.notes,
          interrupted
        })

        /** Ask for a KeyboardInterrupt; if the code does not unwind in time, the interpreter is lost. */
        const interruptAndWait = Effect.gen(function*() {
          interrupted = true
          yield* send({ t: "interrupt" })
          return yield* collect.pipe(
            Effect.timeoutFail({
              duration: interruptGrace,
              onTimeout: () => new InterpreterLost({ exitCode: null, detail: "did not stop after KeyboardInterrupt" })
            })
          )
        })

        yield* send({ ...request, id, cap: options.cap })
        const collected = yield* collect.pipe(
          Effect.timeout(options.timeout),
          Effect.catchTag("TimeoutException", () => interruptAndWait),
          // cancelled by the client: stop the code too, so the session stays usable
          Effect.onInterrupt(() => interruptAndWait.pipe(Effect.ignore))
        )
        return finish(collected)
      })

    return {
      generation: process.generation,
      pid: ready.pid,
      python: ready.python,
      run
    } satisfies PythonInterpreter
  })
