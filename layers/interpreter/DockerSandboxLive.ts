// Sandbox on a Docker engine through dockerode: one locked-down container per server process,
// created on first use, recreated when it dies or on reset, removed when the server stops.
import Docker from "dockerode"
import { Duration, Effect, Layer, Ref } from "effect"
import * as Os from "node:os"
import { PassThrough } from "node:stream"
import { Sandbox, type SandboxProcess, SandboxUnavailable } from "../../services/interpreter/Sandbox.js"
import { ContainerGone, dockerCall, DockerCallFailed, pullImage } from "./internal/dockerCalls.js"
import { demux } from "./internal/dockerDemux.js"
import {
  containerOptions,
  ownerAlive,
  ownerLabel,
  processIdentity,
  reasonOf,
  sandboxLabel,
  type SandboxSettings,
  statusOf,
  unknownRuntimeReason
} from "./internal/sandboxContainer.js"

export type { SandboxSettings }

interface Current {
  readonly container: Docker.Container
  readonly generation: number
  readonly python: string
}

export const DockerSandboxLive = (settings: SandboxSettings) =>
  Layer.scoped(
    Sandbox,
    Effect.gen(function*() {
      const docker = new Docker()
      const owner = processIdentity(process.pid) ?? `${Os.hostname()}/${process.pid}`
      const current = yield* Ref.make<Current | undefined>(undefined)
      const lock = yield* Effect.makeSemaphore(1)
      let generation = 0
      let leftoversChecked = false
      /** Generations whose container the engine stopped for going over its memory limit. */
      const stoppedForMemory = new Set<number>()

      const unavailable = (what: string) => (e: DockerCallFailed) =>
        new SandboxUnavailable({ reason: `${what}: ${reasonOf(e.cause)}`, cause: e.cause })

      const engineReachable = dockerCall("ping", () => docker.ping()).pipe(
        Effect.mapError((e) =>
          new SandboxUnavailable({
            reason: `the Docker engine is not reachable (${reasonOf(e.cause)}): start it (e.g. systemctl start docker) or set DOCKER_HOST`,
            cause: e.cause
          })
        )
      )

      /** Containers of earlier runs of this server that died without cleaning up. */
      const removeLeftovers = Effect.gen(function*() {
        const found = yield* dockerCall("list containers", (signal) =>
          docker.listContainers({ all: true, filters: { label: [sandboxLabel] }, abortSignal: signal })).pipe(Effect.orElseSucceed(() => []))
        const orphans = found.filter((c) => !ownerAlive(c.Labels[ownerLabel]))
        yield* Effect.forEach(orphans, (c) =>
          dockerCall("remove", () => docker.getContainer(c.Id).remove({ force: true, v: true })).pipe(
            Effect.tap(() => Effect.logInfo(`removed sandbox container ${c.Id.slice(0, 12)} left behind by an earlier run`)),
            Effect.ignore
          ), { discard: true })
      })

      const ensureImage = dockerCall("inspect image", () => docker.getImage(settings.image).inspect()).pipe(
        Effect.asVoid,
        Effect.catchAll(() =>
          pullImage(docker, settings.image).pipe(
            Effect.timeoutFail({
              duration: "30 minutes",
              onTimeout: () => new DockerCallFailed({ operation: "pull", cause: new Error("the pull took more than 30 minutes") })
            }),
            Effect.mapError((e) =>
            new SandboxUnavailable({
              reason: `image ${settings.image} is not available locally and could not be pulled (${reasonOf(e.cause)}). ` +
                `Build one without a registry with docker/build-offline-image.sh, or set DOCKER_IMAGE to an image you have (any image with python3)`,
              cause: e.cause
            })
          ))
        )
      )

      const withRuntime = settings.runtime === undefined ? "" : ` (runtime ${settings.runtime})`

      /** A create that failed because the engine lacks PY_EXEC_RUNTIME says so, with the runtimes it has. */
      const createFailed = (e: DockerCallFailed) => {
        const plain = unavailable(`cannot create the sandbox container from ${settings.image}${withRuntime}`)(e)
        const runtime = settings.runtime
        if (runtime === undefined) return Effect.fail(plain)
        return dockerCall("info", () => docker.info() as Promise<{ Runtimes?: Record<string, unknown> }>).pipe(
          Effect.map((info) => Object.keys(info.Runtimes ?? {})),
          Effect.option,
          Effect.flatMap((known) =>
            known._tag === "Some" && !known.value.includes(runtime)
              ? Effect.fail(new SandboxUnavailable({ reason: unknownRuntimeReason(runtime, known.value), cause: e.cause }))
              : Effect.fail(plain)
          )
        )
      }

      const create = (python: string) =>
        dockerCall("create container", (signal) =>
          docker.createContainer({ ...containerOptions(settings, python, owner), abortSignal: signal })).pipe(
            Effect.catchAll(createFailed)
          )

      const start = (python: string) =>
        Effect.gen(function*() {
          const container = yield* create(python)
          const started = yield* dockerCall("start", (signal) => container.start({ abortSignal: signal })).pipe(Effect.either)
          if (started._tag === "Right") return container
          yield* dockerCall("remove", () => container.remove({ force: true, v: true })).pipe(Effect.ignore)
          return yield* Effect.fail(unavailable(`cannot start the sandbox container from ${settings.image}${withRuntime}`)(started.left))
        })

      /** /workspace/sessions and /workspace/.packages (shared installs) are open to every session uid, like /tmp. */
      const prepareWorkspace = (container: Docker.Container, python: string) =>
        Effect.gen(function*() {
          const execution = yield* dockerCall("exec", (signal) =>
            container.exec({
              Cmd: [python, "-c", "import os\nfor d in ('/workspace/sessions', '/workspace/.packages'):\n    os.makedirs(d, exist_ok=True)\n    os.chmod(d, 0o1777)"],
              AttachStdout: true,
              AttachStderr: true,
              abortSignal: signal
            }))
          const stream = yield* dockerCall("exec start", (signal) => execution.start({ hijack: true, stdin: false, abortSignal: signal }))
          yield* Effect.async<void>((resume) => {
            stream.on("end", () => resume(Effect.void))
            stream.on("error", () => resume(Effect.void))
            stream.resume()
            return Effect.sync(() => stream.destroy())
          })
          const info = yield* dockerCall("exec inspect", (signal) => execution.inspect({ abortSignal: signal }))
          if (info.ExitCode !== 0) {
            return yield* new DockerCallFailed({ operation: "prepare", cause: new Error(`exit code ${info.ExitCode}`) })
          }
        }).pipe(Effect.mapError(unavailable("cannot prepare /workspace in the sandbox")))

      const launch = Effect.gen(function*() {
        yield* engineReachable
        if (!leftoversChecked) {
          leftoversChecked = true
          yield* removeLeftovers
        }
        yield* ensureImage
        // any image with python3 or python: try python3 first
        const withPython3 = yield* start("python3").pipe(Effect.either)
        const [container, python] = withPython3._tag === "Right"
          ? [withPython3.right, "python3"] as const
          : [
            yield* start("python").pipe(Effect.mapError((e) =>
              new SandboxUnavailable({
                reason: withPython3.left.reason.includes("executable file not found")
                  ? `cannot start the sandbox from ${settings.image}: it has neither python3 nor python on PATH`
                  : e.reason
              })
            )),
            "python"
          ] as const
        yield* prepareWorkspace(container, python).pipe(
          Effect.tapError(() => dockerCall("remove", () => container.remove({ force: true, v: true })).pipe(Effect.ignore))
        )
        generation++
        yield* Effect.logInfo(`sandbox container ${container.id.slice(0, 12)} started from ${settings.image}`)
        return { container, generation, python }
      })

      const isRunning = (container: Docker.Container) =>
        dockerCall("inspect", (signal) => container.inspect({ abortSignal: signal })).pipe(
          Effect.map((info) => info.State.Running),
          Effect.orElseSucceed(() => false)
        )

      /** The running container, started if there is none or the last one died. */
      const ensureCurrent = lock.withPermits(1)(Effect.gen(function*() {
        const existing = yield* Ref.get(current)
        if (existing !== undefined) return existing
        const fresh = yield* launch
        yield* Ref.set(current, fresh)
        return fresh
      }))

      const removeContainer = (c: Current) =>
        dockerCall("remove", () => c.container.remove({ force: true, v: true })).pipe(
          Effect.timeout("10 seconds"),
          Effect.tap(() => Effect.logInfo(`sandbox container ${c.container.id.slice(0, 12)} removed`)),
          Effect.ignore
        )

      /** A container found dead: drop it (and its remains), the next use starts another. */
      const forget = (generationToDrop: number) =>
        Ref.modify(current, (c) => (c?.generation === generationToDrop ? [c, undefined] : [undefined, c])).pipe(
          Effect.flatMap((dropped) => (dropped === undefined ? Effect.void : Effect.forkDaemon(removeContainer(dropped))))
        )

      // containers of an earlier run that was killed: removed at start when the engine answers,
      // else before the first container is created
      yield* engineReachable.pipe(
        Effect.zipRight(Effect.suspend(() => {
          leftoversChecked = true
          return removeLeftovers
        })),
        Effect.ignore,
        Effect.forkScoped
      )

      yield* Effect.addFinalizer(() =>
        Effect.flatMap(Ref.get(current), (c) => (c === undefined ? Effect.void : removeContainer(c)))
      )

      type ExecOptions = { user: string; workingDir?: string; env?: Readonly<Record<string, string>> }

      /** Run in the current container; if it turns out to be gone, once more in a fresh one. */
      const exec = (command: ReadonlyArray<string>, options: ExecOptions) =>
        execIn(command, options).pipe(
          Effect.catchTag("ContainerGone", () => execIn(command, options)),
          Effect.catchTag("ContainerGone", (e) => Effect.fail(new SandboxUnavailable({ reason: e.reason, cause: e.cause })))
        )

      const execIn = (command: ReadonlyArray<string>, options: ExecOptions) =>
        Effect.gen(function*() {
          const c = yield* ensureCurrent
          const cmd = command.map((part, i) => (i === 0 && part === "python" ? c.python : part))
          const created = yield* dockerCall("exec", (signal) =>
            c.container.exec({
              Cmd: cmd,
              AttachStdin: true,
              AttachStdout: true,
              AttachStderr: true,
              Tty: false,
              User: options.user,
              ...(options.workingDir ? { WorkingDir: options.workingDir } : {}),
              Env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
              abortSignal: signal
            })).pipe(Effect.either)
          if (created._tag === "Left") {
            // 404/409: the container was killed or removed behind our back; the next call starts a new one
            const status = statusOf(created.left.cause)
            if (status === 404 || status === 409 || !(yield* isRunning(c.container))) {
              yield* forget(c.generation)
              return yield* Effect.fail(new ContainerGone({
                reason: `the sandbox container stopped and could not be replaced: ${reasonOf(created.left.cause)}`,
                cause: created.left.cause
              }))
            }
            return yield* Effect.fail(unavailable("cannot run in the sandbox")(created.left))
          }
          const execution = created.right
          const duplex = yield* Effect.acquireRelease(
            dockerCall("exec start", (signal) => execution.start({ hijack: true, stdin: true, abortSignal: signal })).pipe(
              Effect.mapError(unavailable("cannot run in the sandbox"))
            ),
            (stream) => Effect.sync(() => stream.destroy())
          )
          const stdout = new PassThrough()
          const stderr = new PassThrough()
          demux(duplex, stdout, stderr)
          const end = () => {
            stdout.end()
            stderr.end()
          }
          duplex.on("end", end)
          duplex.on("close", end)
          duplex.on("error", end)
          const running: SandboxProcess = {
            generation: c.generation,
            stdin: duplex,
            stdout,
            stderr,
            exitCode: dockerCall("exec inspect", (signal) => execution.inspect({ abortSignal: signal })).pipe(
              Effect.map((info) => info.ExitCode),
              Effect.orElseSucceed(() => null)
            )
          }
          return running
        })

      return Sandbox.of({
        ensure: Effect.map(ensureCurrent, (c) => c.generation),
        exec,
        alive: (gen, patience = 0) =>
          Effect.gen(function*() {
            const c = yield* Ref.get(current)
            if (c === undefined || c.generation !== gen) return false
            const deadline = Date.now() + Duration.toMillis(patience)
            let running = yield* isRunning(c.container)
            while (running && Date.now() < deadline) {
              yield* Effect.sleep("200 millis")
              running = yield* isRunning(c.container)
            }
            const stopped = !running
            if (stopped) {
              const oomKilled = yield* dockerCall("inspect", (signal) => c.container.inspect({ abortSignal: signal })).pipe(
                Effect.map((info) => info.State.OOMKilled),
                Effect.orElseSucceed(() => false)
              )
              if (oomKilled) stoppedForMemory.add(gen)
              yield* forget(gen)
            }
            return !stopped
          }),
        stoppedForMemory: (gen) => Effect.sync(() => stoppedForMemory.has(gen)),
        reset: lock.withPermits(1)(Effect.gen(function*() {
          const c = yield* Ref.get(current)
          yield* Ref.set(current, undefined)
          if (c !== undefined) yield* removeContainer(c)
        }))
      })
    })
  )
