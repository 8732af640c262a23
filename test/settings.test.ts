import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { resolveSettings } from "../src/interpreter/settings.js"

const resolve = (sources: { args?: Record<string, string>; env?: Record<string, string>; dotenv?: Record<string, string> }) =>
  resolveSettings({ args: sources.args ?? {}, env: sources.env ?? {}, dotenv: sources.dotenv ?? {}, cwd: "/home/u/project" })

describe("code interpreter settings", () => {
  it.effect("defaults: the current directory, python:3.13-slim, 600 s TTL, 32 sessions, 60 s timeout", () =>
    Effect.gen(function*() {
      const s = yield* resolve({})
      expect([s.workdirIn, s.workdirOut, s.image]).toEqual(["/home/u/project", "/home/u/project", "python:3.13-slim"])
      expect([Duration.toSeconds(s.sessionTtl), s.sessionMax, Duration.toSeconds(s.timeout)]).toEqual([600, 32, 60])
      expect([s.maxOutput, s.memory, s.network, s.user]).toEqual([100 * 1024, 1024 ** 3, "none", { uid: 65534, gid: 65534 }])
    }))

  it.effect("arguments beat the environment, which beats .env, which beats defaults", () =>
    Effect.gen(function*() {
      const all = { DOCKER_IMAGE: "from-dotenv", PY_EXEC_TIMEOUT: "5", PY_EXEC_SESSION_MAX: "3" }
      const s = yield* resolve({
        dotenv: all,
        env: { DOCKER_IMAGE: "from-env", PY_EXEC_TIMEOUT: "7" },
        args: { DOCKER_IMAGE: "from-args" }
      })
      expect([s.image, Duration.toSeconds(s.timeout), s.sessionMax]).toEqual(["from-args", 7, 3])
    }))

  it.effect("WORKDIR_IN/WORKDIR_OUT fall back to WORKDIR, then the current directory; relative paths are resolved", () =>
    Effect.gen(function*() {
      const s = yield* resolve({ env: { WORKDIR: "data", WORKDIR_OUT: "/srv/out" } })
      expect([s.workdirIn, s.workdirOut]).toEqual(["/home/u/project/data", "/srv/out"])
      const t = yield* resolve({ dotenv: { WORKDIR_IN: "in" }, args: { WORKDIR: "/w" } })
      expect([t.workdirIn, t.workdirOut]).toEqual(["/home/u/project/in", "/w"])
    }))

  it.effect("refuses invalid values, naming the variable", () =>
    Effect.gen(function*() {
      const cases: Array<[Record<string, string>, string]> = [
        [{ PY_EXEC_SESSION_TTL: "ten" }, "PY_EXEC_SESSION_TTL: expected a whole number of seconds from 1 to 604800, got \"ten\""],
        [{ PY_EXEC_SESSION_MAX: "0" }, "PY_EXEC_SESSION_MAX: expected a number of sessions from 1 to 1000, got \"0\""],
        [{ PY_EXEC_TIMEOUT: "-1" }, "PY_EXEC_TIMEOUT: expected a whole number of seconds from 1 to 86400, got \"-1\""],
        [{ PY_EXEC_MEMORY: "lots" }, "PY_EXEC_MEMORY: expected a size like 512m or 2g, got \"lots\""],
        [{ PY_EXEC_USER: "0" }, "PY_EXEC_USER: the sandbox must not run as root (uid 0)"],
        [{ PY_EXEC_USER: "nobody" }, "PY_EXEC_USER: expected a numeric uid or uid:gid, got \"nobody\""],
        [{ PY_EXEC_CPUS: "x" }, "PY_EXEC_CPUS: expected a positive number of CPUs, got \"x\""],
        [{ DOCKER_IMAGE: " " }, "DOCKER_IMAGE: must not be empty"],
        [{ PY_EXEC_RUNTIME: "run sc" }, "PY_EXEC_RUNTIME: expected the name of a runtime registered with the Docker engine, such as runc or runsc, got \"run sc\""]
      ]
      for (const [env, message] of cases) {
        const error = yield* Effect.flip(resolve({ env }))
        expect(error.message).toBe(message)
      }
    }))

  it.effect("PY_EXEC_RUNTIME: unset or empty is the engine's default runtime", () =>
    Effect.gen(function*() {
      expect((yield* resolve({})).runtime).toBeUndefined()
      expect((yield* resolve({ env: { PY_EXEC_RUNTIME: "" } })).runtime).toBeUndefined()
      expect((yield* resolve({ env: { PY_EXEC_RUNTIME: " runsc " } })).runtime).toBe("runsc")
    }))
})

describe("README", () => {
  it("lists every setting with its default and meaning, as the code has them", async () => {
    const Fs = await import("node:fs")
    const { variables } = await import("../src/interpreter/settings.js")
    const readme = Fs.readFileSync(new URL("../README.md", import.meta.url), "utf8")
    for (const v of Object.values(variables)) {
      const row = `| \`${v.name}\` | ${v.defaultValue === undefined ? "–" : `\`${v.defaultValue}\``} | ${v.description} |`
      expect(readme, v.name).toContain(row)
    }
  })
})
