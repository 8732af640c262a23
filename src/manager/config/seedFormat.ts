// mcp_server.conf: one /bin/sh command line per server.
//
//   # comment
//   uvx mcp-server-fetch                       → name "mcp-server-fetch"
//   [files] npx -y @mcp/server-filesystem "$HOME/shared"   → name "files"
//
// A line may start with `[name]` followed by whitespace to name the server. An unquoted `[x]` as
// the first word would be a glob pattern to /bin/sh, never a sensible command; a program really
// called `[x]` can still be run by quoting it: `'[x]' --flag`. `[ ` (with a space) stays the
// test command.
import { Effect } from "effect"
import * as Path from "node:path"
import { split } from "shlex"
import { Backoff, defaultStopTimeout, ServerSpec } from "../ServerSpec.js"
import { ConfigInvalid } from "./ConfigInvalid.js"
import { assignNames, deriveName } from "./serverNames.js"

const label = /^\[(|[^\]\s][^\]]*)\](?:\s+|$)/

/** Leading `VAR=value` words, with quoted values. */
const assignments = /^(?:[A-Za-z_][A-Za-z0-9_]*=(?:'[^']*'|"(?:[^"\\]|\\.)*"|[^\s'"])*\s+)*/

/** Anything that makes a line more than one simple command: lists, pipes, subshells, substitutions. */
const compound = /[;&|()`\n<>]|\$\(|^\s*(?:!|\{|if|for|while|until|case|exec|time)(?:\s|$)/

/**
 * The line /bin/sh runs: a simple command gets `exec`, so the server replaces the shell and its pid
 * is the server's own (dash does not do that by itself). Anything else runs as written.
 */
export const shellLine = (command: string): string => {
  const prefix = assignments.exec(command)?.[0] ?? ""
  const rest = command.slice(prefix.length)
  return compound.test(rest) || rest === "" ? command : `${prefix}exec ${rest}`
}
const validName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

interface SeedLine {
  readonly lineNumber: number
  readonly explicit?: string
  readonly command: string
  readonly derived: string
}

/** Physical lines joined where a line ends in an unescaped backslash, as /bin/sh does. */
const logicalLines = (text: string): ReadonlyArray<{ readonly lineNumber: number; readonly text: string }> => {
  const physical = text.split(/\r?\n/)
  const out: Array<{ lineNumber: number; text: string }> = []
  for (let i = 0; i < physical.length; i++) {
    const lineNumber = i + 1
    let line = physical[i]!
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < physical.length) line = line.slice(0, -1) + physical[++i]!
    out.push({ lineNumber, text: line })
  }
  return out
}

const parseLine = (lineNumber: number, text: string): SeedLine | string | undefined => {
  const trimmed = text.trim()
  if (trimmed === "" || trimmed.startsWith("#")) return undefined
  // /bin/sh is given the line through execve(2), whose strings end at a NUL byte
  if (text.includes("\u0000")) return `line ${lineNumber}: contains a NUL byte, which no program can be given`
  const labelled = label.exec(trimmed)
  const command = labelled ? trimmed.slice(labelled[0].length).trim() : trimmed
  if (labelled && !validName.test(labelled[1]!)) {
    return `line ${lineNumber}: invalid server name "[${labelled[1]}]": expected 1-64 characters from A-Z a-z 0-9 . _ - (not starting with . _ -)`
  }
  if (command === "") return `line ${lineNumber}: "[${labelled?.[1]}]" names a server but gives no command`
  let words: ReadonlyArray<string>
  try {
    words = split(command)
  } catch {
    return `line ${lineNumber}: unterminated quote in command: ${command}`
  }
  return {
    lineNumber,
    command,
    derived: deriveName(words),
    ...(labelled ? { explicit: labelled[1]! } : {})
  }
}

/**
 * Decode the seed format. Servers run under `/bin/sh -c` (so quotes, `$VARS`, `~` and redirections
 * behave as in a shell) with the config file's directory as working directory.
 */
export const decodeSeedConfig = (file: string, text: string): Effect.Effect<ReadonlyArray<ServerSpec>, ConfigInvalid> =>
  Effect.suspend(() => {
    const problems: Array<string> = []
    const lines: Array<SeedLine> = []
    const firstUse = new Map<string, number>()
    for (const { lineNumber, text: line } of logicalLines(text)) {
      const parsed = parseLine(lineNumber, line)
      if (parsed === undefined) continue
      if (typeof parsed === "string") {
        problems.push(parsed)
        continue
      }
      if (parsed.explicit !== undefined) {
        const earlier = firstUse.get(parsed.explicit)
        if (earlier !== undefined) {
          problems.push(`line ${lineNumber}: server name "${parsed.explicit}" is already used on line ${earlier}`)
          continue
        }
        firstUse.set(parsed.explicit, lineNumber)
      }
      lines.push(parsed)
    }
    const [first, ...rest] = problems
    if (first !== undefined) return Effect.fail(new ConfigInvalid({ file, problems: [first, ...rest] }))
    const names = assignNames(lines)
    const cwd = Path.dirname(Path.resolve(file))
    return Effect.succeed(lines.map((line, i) =>
      new ServerSpec({
        name: names[i]!,
        command: line.command,
        launch: { _tag: "Shell", line: shellLine(line.command) },
        env: {},
        cwd,
        autostart: true,
        restart: "always",
        backoff: Backoff.defaults,
        stopSignal: "SIGTERM",
        stopTimeout: defaultStopTimeout
      })
    ))
  })
