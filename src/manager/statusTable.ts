// How `mcpctl status` shows the servers to a person.
import columnify from "columnify"
import { DateTime } from "effect"
import type { ServerStatus } from "../protocol/ManagerRpcs.js"

/** "3d4h", "2h5m", "4m10s", "12s", "0.4s": the two largest units are enough to read at a glance. */
export const formatSpan = (millis: number): string => {
  if (millis < 1000) return `${(Math.max(0, millis) / 1000).toFixed(1)}s`
  const totalSeconds = Math.floor(millis / 1000)
  const units: ReadonlyArray<[string, number]> = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]
  const out: Array<string> = []
  let rest = totalSeconds
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0 || out.length > 0) out.push(`${n}${unit}`)
    if (out.length === 2) break
  }
  return out.join("")
}

const since = (now: DateTime.Utc, then: DateTime.Utc) => formatSpan(DateTime.toEpochMillis(now) - DateTime.toEpochMillis(then))

const stateText = (s: ServerStatus, now: DateTime.Utc) =>
  s.state === "backoff" && s.nextRestartAt !== null
    ? `backoff (retry in ${formatSpan(DateTime.toEpochMillis(s.nextRestartAt) - DateTime.toEpochMillis(now))})`
    : s.state

const lastExitText = (s: ServerStatus, now: DateTime.Utc) => {
  if (s.lastError !== null) return `cannot start: ${s.lastError}`
  if (s.lastExit === null) return "-"
  const how = s.lastExit.signal !== null ? s.lastExit.signal : `code ${s.lastExit.code}`
  return `${how}, ${since(now, s.lastExit.at)} ago`
}

const table = (servers: ReadonlyArray<ServerStatus>, now: DateTime.Utc): string =>
  columnify(
    servers.map((s) => ({
      name: s.name,
      state: stateText(s, now),
      pid: s.pid ?? "-",
      uptime: s.state === "running" && s.startedAt !== null ? since(now, s.startedAt) : "-",
      restarts: s.restarts,
      "last exit": lastExitText(s, now),
      command: s.command
    })),
    { columnSplitter: "  ", truncate: true, config: { command: { maxWidth: 80 }, "last exit": { maxWidth: 60 } } }
  ).replace(/ +$/gm, "") // columnify pads the last column too: no trailing blanks for grep, diff or a narrow terminal

/** Problems that are not about the process itself, one line each under the table. */
const notes = (servers: ReadonlyArray<ServerStatus>) =>
  servers.flatMap((s) =>
    s.logProblem === null ? [] : [`${s.name}: log file not written: ${s.logProblem} (\`mcpctl logs\` still has its recent output)`]
  )

export const statusTable = (servers: ReadonlyArray<ServerStatus>, now: DateTime.Utc): string => {
  if (servers.length === 0) return "no servers configured"
  const problems = notes(servers)
  return problems.length === 0 ? table(servers, now) : `${table(servers, now)}\n\n${problems.join("\n")}`
}
