import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { decodeConfig } from "../src/manager/config/decodeConfig.js"
import { decodeJsonConfig } from "../src/manager/config/jsonFormat.js"
import { decodeSeedConfig, shellLine } from "../src/manager/config/seedFormat.js"
import { deriveName } from "../src/manager/config/serverNames.js"

const seed = (text: string) => decodeSeedConfig("/etc/mcp/mcp_server.conf", text)
const json = (value: unknown, env: NodeJS.ProcessEnv = {}) =>
  decodeJsonConfig("/etc/mcp/servers.json", typeof value === "string" ? value : JSON.stringify(value), env)
const problems = <A>(effect: Effect.Effect<A, { readonly problems: ReadonlyArray<string> }>) =>
  Effect.map(Effect.flip(effect), (e) => e.problems)

describe("seed format (mcp_server.conf)", () => {
  it.effect("one server per line; comments, blank lines and leading spaces ignored", () =>
    Effect.gen(function*() {
      const specs = yield* seed(`
# a comment
  uvx mcp-server-fetch

npx -y @modelcontextprotocol/server-filesystem "/srv/shared files"
      # indented comment
`)
      expect(specs.map((s) => [s.name, s.command])).toEqual([
        ["mcp-server-fetch", "uvx mcp-server-fetch"],
        ["server-filesystem", "npx -y @modelcontextprotocol/server-filesystem \"/srv/shared files\""]
      ])
      expect(specs[0]!.launch).toEqual({ _tag: "Shell", line: "exec uvx mcp-server-fetch" })
      expect(specs[0]!.cwd).toBe("/etc/mcp")
      expect(specs[0]!.restart).toBe("always")
      expect(Duration.toMillis(specs[0]!.stopTimeout)).toBe(10_000)
    }))

  it.effect("[name] gives a name; derived names are de-duplicated in file order around explicit ones", () =>
    Effect.gen(function*() {
      const specs = yield* seed(`
node a/server.js
[node-2] echo explicit
node b/server.js
node c/server.js
[files] npx -y @mcp/server-filesystem /x
`)
      expect(specs.map((s) => s.name)).toEqual(["a", "node-2", "b", "c", "files"])
      const same = yield* seed("sleep 100\nsleep 100\nsleep 200\n")
      expect(same.map((s) => s.name)).toEqual(["sleep", "sleep-2", "sleep-3"])
      expect(same[1]!.command).toBe("sleep 100")
    }))

  it.effect("`[` used as the test command is a command, not a name", () =>
    Effect.gen(function*() {
      const [spec] = yield* seed("[ -f /etc/x ] && exec my-server\n")
      expect(spec!.command).toBe("[ -f /etc/x ] && exec my-server")
      expect(spec!.launch).toEqual({ _tag: "Shell", line: "[ -f /etc/x ] && exec my-server" })
    }))

  it.effect("backslash continues a line, as in sh", () =>
    Effect.gen(function*() {
      const specs = yield* seed("node server.js \\\n  --port 8080\nuvx other\n")
      expect(specs.map((s) => s.command)).toEqual(["node server.js   --port 8080", "uvx other"])
    }))

  it.effect("errors name the line and what is wrong; all problems are reported", () =>
    Effect.gen(function*() {
      const found = yield* problems(seed(`
uvx fine
node "unterminated
[bad name!] uvx x
[dup] uvx a
[dup] uvx b
[empty]
`))
      expect(found).toEqual([
        "line 3: unterminated quote in command: node \"unterminated",
        "line 4: invalid server name \"[bad name!]\": expected 1-64 characters from A-Z a-z 0-9 . _ - (not starting with . _ -)",
        "line 6: server name \"dup\" is already used on line 5",
        "line 7: \"[empty]\" names a server but gives no command"
      ])
      const error = yield* Effect.flip(seed("a '\n"))
      expect(error.message).toBe("/etc/mcp/mcp_server.conf: line 1: unterminated quote in command: a '")
    }))
})

describe("shellLine", () => {
  it("execs simple commands so the server's pid is the one supervised", () => {
    expect(shellLine("node server.js --port 1")).toBe("exec node server.js --port 1")
    expect(shellLine("FOO=1 BAR='a b' node s.js")).toBe("FOO=1 BAR='a b' exec node s.js")
    expect(shellLine("GREETING=\"hi $USER\" node s.js")).toBe("GREETING=\"hi $USER\" exec node s.js")
  })
  it("leaves lists, pipes, substitutions and compound commands alone", () => {
    for (const line of ["a && b", "a; b", "a | b", "x $(date)", "x `date`", "if true; then a; fi", "exec a", "a > log"]) {
      expect(shellLine(line)).toBe(line)
    }
  })
})

describe("deriveName", () => {
  const name = (line: string) => deriveName(line.split(" "))
  it("uses the real program behind launchers", () => {
    expect(name("npx -y @modelcontextprotocol/server-filesystem /srv")).toBe("server-filesystem")
    expect(name("uvx mcp-server-fetch@latest")).toBe("mcp-server-fetch")
    expect(name("uvx --from git+https://x/y.git mcp-weather")).toBe("mcp-weather")
    expect(name("python3 -m mcp_server_time --tz UTC")).toBe("mcp_server_time")
    expect(name("node /opt/weather/dist/index.js")).toBe("weather")
    expect(name("docker run -i --rm -e KEY=1 mcp/fetch:1.0")).toBe("fetch")
    expect(name("FOO=1 exec /usr/local/bin/my-server --x")).toBe("my-server")
    expect(name("sleep 100")).toBe("sleep")
  })
})

describe("JSON format (mcpServers)", () => {
  it.effect("decodes the Claude Desktop form with defaults", () =>
    Effect.gen(function*() {
      const { skipped, specs } = yield* json({
        mcpServers: {
          fetch: { command: "uvx", args: ["mcp-server-fetch", "--ignore robots"] },
          remote: { type: "http", url: "https://example.com/mcp" }
        }
      })
      expect(specs).toHaveLength(1)
      const fetch = specs[0]!
      expect(fetch.name).toBe("fetch")
      expect(fetch.command).toBe("uvx mcp-server-fetch '--ignore robots'")
      expect(fetch.launch).toEqual({ _tag: "Exec", file: "uvx", args: ["mcp-server-fetch", "--ignore robots"] })
      expect(fetch.cwd).toBe("/etc/mcp")
      expect(fetch.autostart).toBe(true)
      expect(skipped).toEqual(["mcpServers.remote: remote server (url/type), nothing to supervise"])
    }))

  it.effect("reads the manager's own fields: durations in seconds or with units, signal names", () =>
    Effect.gen(function*() {
      const { specs } = yield* json({
        mcpServers: {
          s: {
            command: "srv",
            cwd: "sub",
            autostart: false,
            restart: "on-failure",
            backoff: { initial: "250ms", max: 60, factor: 3, resetAfter: "1m" },
            stopSignal: "INT",
            stopTimeout: "2.5s"
          }
        }
      })
      const s = specs[0]!
      expect([s.cwd, s.autostart, s.restart, s.stopSignal]).toEqual(["/etc/mcp/sub", false, "on-failure", "SIGINT"])
      expect([s.backoff.initial, s.backoff.max, s.backoff.resetAfter, s.stopTimeout].map(Duration.toMillis)).toEqual([
        250,
        60_000,
        60_000,
        2_500
      ])
      expect(s.backoff.factor).toBe(3)
    }))

  it.effect("expands ${VAR} and ${VAR:-default} like Claude Code; a missing variable is an error", () =>
    Effect.gen(function*() {
      const { specs } = yield* json(
        { mcpServers: { s: { command: "${HOME}/bin/srv", args: ["--key=${KEY:-none}"], env: { TOKEN: "${TOKEN}" } } } },
        { HOME: "/home/u", TOKEN: "t0k" }
      )
      expect(specs[0]!.launch).toEqual({ _tag: "Exec", file: "/home/u/bin/srv", args: ["--key=none"] })
      expect(specs[0]!.env).toEqual({ TOKEN: "t0k" })
      expect(yield* problems(json({ mcpServers: { s: { command: "${NOPE}" } } }))).toEqual([
        "mcpServers.s.command: environment variable NOPE is not set (write ${NOPE:-default} to give a default)"
      ])
    }))

  it.effect("errors give the JSON path and what was expected", () =>
    Effect.gen(function*() {
      const found = yield* problems(json({
        mcpServers: {
          a: { command: "x", restart: "sometimes" },
          b: { args: ["no command"] },
          c: { command: "x", stopTimeout: "soon", stopSignal: "SIGWHAT" },
          d: { command: "x", backoff: { initial: "10s", max: "1s" } }
        }
      }))
      expect(found).toContain(
        "mcpServers.a.restart: expected \"always\", \"on-failure\" or \"never\", got \"sometimes\""
      )
      expect(found).toContain("mcpServers.b.command: is missing")
      expect(found.some((p) => p.startsWith("mcpServers.c.stopTimeout: expected a duration like"))).toBe(true)
      expect(found).toContain(
        "mcpServers.c.stopSignal: expected SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGKILL, got \"SIGWHAT\""
      )
      expect(found).toHaveLength(5)
      expect(found).toContain("mcpServers.d.backoff: initial (10s) is larger than max (1s)")
      expect(yield* problems(json("{\n  \"mcpServers\": {\n    \"a\": }"))).toEqual([
        "Unexpected token '}', ...\"\n    \"a\": }\" is not valid JSON"
      ])
      expect(yield* problems(json("{\n  \"mcpServers\": {,"))).toEqual([
        "Expected property name or '}' in JSON at line 2 column 18"
      ])
      expect(yield* problems(json({ servers: {} }))).toEqual(["mcpServers: is missing"])
      expect(yield* problems(json({ mcpServers: { "bad name": { command: "x" } } }))).toEqual([
        "mcpServers.bad name: invalid server name: expected 1-64 characters from A-Z a-z 0-9 . _ - (not starting with . _ -)"
      ])
    }))

  it.effect("the file extension chooses the format", () =>
    Effect.gen(function*() {
      const fromJson = yield* decodeConfig("/x/a.JSON", "{\"mcpServers\":{\"a\":{\"command\":\"b\"}}}", {})
      expect(fromJson.specs[0]!.name).toBe("a")
      const fromSeed = yield* decodeConfig("/x/mcp_server.conf", "b --flag\n", {})
      expect(fromSeed.specs[0]!.name).toBe("b")
    }))
})
