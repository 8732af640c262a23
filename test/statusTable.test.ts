import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import { LastExit } from "../src/protocol/ManagerRpcs.js"
import { formatSpan, statusTable } from "../src/manager/statusTable.js"
import { serverStatus } from "./support/serverStatus.js"

const now = DateTime.unsafeMake("2026-11-25T12:00:00Z")
const ago = (seconds: number) => DateTime.subtract(now, { seconds })

describe("mcpctl status table", () => {
  const table = statusTable([
    serverStatus({ name: "echo", command: "node echo-server.mjs", state: "running", pid: 4242, startedAt: ago(75) }),
    serverStatus({
      name: "crasher",
      command: "sh -c 'exit 3'",
      state: "backoff",
      restarts: 4,
      lastExit: new LastExit({ code: 3, signal: null, at: ago(2) }),
      nextRestartAt: DateTime.add(now, { seconds: 3 })
    }),
    serverStatus({ name: "missing", command: "no-such-program", state: "backoff", lastError: "command not found: no-such-program" })
  ], now)
  const lines = table.split("\n")

  it("shows one row per server under a header, in the order given", () => {
    expect(lines.map((line) => line.split(/\s+/)[0])).toEqual(["NAME", "echo", "crasher", "missing"])
  })

  it("says how long a server has run, when and how it last exited, and when it is retried", () => {
    expect(lines[1]).toMatch(/running\s+4242\s+1m15s\s+0\s+-\s+node echo-server\.mjs$/)
    expect(lines[2]).toMatch(/backoff \(retry in 3s\)\s+-\s+-\s+4\s+code 3, 2s ago\s+sh -c 'exit 3'$/)
    expect(lines[3]).toContain("cannot start: command not found: no-such-program")
  })

  it("leaves no blanks at the end of a line, though the last column is padded by the layout", () => {
    expect(lines.filter((line) => line !== line.trimEnd())).toEqual([])
  })

  it("says under the table which log files are not being written, and why", () => {
    const withProblem = statusTable([
      serverStatus({ name: "chatty", command: "chatty-server", state: "running", pid: 7, startedAt: ago(5), logProblem: "cannot write /logs/chatty.log (ENOSPC: no space left on device, write)" }),
      serverStatus({ name: "quiet", command: "quiet-server", state: "running", pid: 8, startedAt: ago(5) })
    ], now).split("\n")
    expect(withProblem.slice(3)).toEqual([
      "",
      "chatty: log file not written: cannot write /logs/chatty.log (ENOSPC: no space left on device, write) (`mcpctl logs` still has its recent output)"
    ])
    expect(lines).toHaveLength(4)
  })

  it("says so when there is nothing to show", () => {
    expect(statusTable([], now)).toBe("no servers configured")
  })
})

describe("formatSpan", () => {
  it("keeps the two largest units", () => {
    expect([400, 12_000, 250_000, 7_500_000, 3 * 86_400_000 + 4 * 3_600_000 + 5_000].map(formatSpan))
      .toEqual(["0.4s", "12s", "4m10s", "2h5m", "3d4h"])
  })
})
