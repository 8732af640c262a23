// Deriving a readable, stable server name from a command line.
// `npx -y @modelcontextprotocol/server-filesystem /srv` should be "server-filesystem", not "npx".

/** Launchers whose first non-option argument names the real program (package, script or image). */
const launchers: Record<string, { readonly subcommands?: ReadonlyArray<string>; readonly valueOptions?: ReadonlyArray<string> }> = {
  npx: { valueOptions: ["-p", "--package", "-c", "--call"] },
  bunx: { valueOptions: ["-p", "--package"] },
  pnpx: {},
  uvx: { valueOptions: ["--from", "--with", "--python", "-p", "--index", "--index-url"] },
  pipx: { subcommands: ["run"], valueOptions: ["--spec", "--python", "--index-url"] },
  uv: { subcommands: ["run", "tool"], valueOptions: ["--from", "--with", "--python", "-p", "--directory", "--project"] },
  pnpm: { subcommands: ["dlx", "exec"] },
  yarn: { subcommands: ["dlx"] },
  npm: { subcommands: ["exec", "x"], valueOptions: ["-p", "--package"] },
  node: { valueOptions: ["-r", "--require", "--import", "--loader", "-e", "--eval"] },
  deno: { subcommands: ["run"] },
  bun: { subcommands: ["run", "x"] },
  tsx: {},
  "ts-node": {},
  python: { valueOptions: ["-W", "-X"] },
  python3: { valueOptions: ["-W", "-X"] },
  docker: {
    subcommands: ["run"],
    valueOptions: [
      "-e", "--env", "--env-file", "-v", "--volume", "--mount", "-p", "--publish", "--network", "-w",
      "--workdir", "-u", "--user", "--entrypoint", "-l", "--label", "--platform", "--cpus", "-m", "--memory"
    ]
  },
  podman: { subcommands: ["run"], valueOptions: ["-e", "--env", "-v", "--volume", "-p", "--publish", "--network", "-w", "-u", "--user", "--entrypoint"] }
}

/** Path components that say nothing about the program: climb past them to a telling directory. */
const genericNames = new Set(["index", "main", "server", "cli", "app", "dist", "build", "src", "lib", "bin", "out", "__main__"])

/** Wrappers that run the next word as the program. */
const wrappers = new Set(["exec", "env", "nohup", "setsid", "stdbuf", "chrt", "ionice"])

const isAssignment = (word: string) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)

const basename = (path: string) => path.replace(/\/+$/, "").split("/").pop() ?? path

/** `@scope/pkg@1.2.3` → `pkg`; `ghcr.io/org/image:tag` → `image`; `/opt/x/dist/index.js` → `x`. */
const programName = (word: string): string => {
  if (word.startsWith("@")) return basename(word.replace(/@[^/@]*$/, "").replace(/^@/, ""))
  const withoutVersion = word.replace(/(?<=.)@[^/]*$/, "").replace(/:[^/]*$/, "")
  const parts = withoutVersion.split("/").filter((p) => p !== "" && p !== ".")
  let index = parts.length - 1
  const strip = (p: string) => p.replace(/\.(m?js|cjs|ts|mts|py|sh)$/, "")
  while (index > 0 && genericNames.has(strip(parts[index]!))) index--
  return strip(parts[index] ?? word)
}

const launchedProgram = (words: ReadonlyArray<string>, launcher: string): string | undefined => {
  const { subcommands = [], valueOptions = [] } = launchers[launcher] ?? {}
  let i = 0
  while (i < words.length && subcommands.includes(words[i]!)) i++
  for (; i < words.length; i++) {
    const word = words[i]!
    if (word === "--") continue
    if (word === "-m" && launcher.startsWith("python")) return words[i + 1]
    if (word.startsWith("-")) {
      if (valueOptions.includes(word)) i++
      continue
    }
    return word
  }
  return undefined
}

/** A name for the program a command line runs (before de-duplication). */
export const deriveName = (words: ReadonlyArray<string>): string => {
  let i = 0
  while (i < words.length && (isAssignment(words[i]!) || wrappers.has(words[i]!))) i++
  const program = words[i]
  if (program === undefined) return "server"
  const launcher = basename(program)
  const target = launcher in launchers ? launchedProgram(words.slice(i + 1), launcher) : undefined
  const raw = programName(target ?? program)
  const safe = raw.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[._-]+/, "").slice(0, 60)
  return safe === "" ? "server" : safe
}

/**
 * Names for a list of entries in file order: explicit names are kept as given, derived names get
 * `-2`, `-3`… when taken, so a name stays the same as long as the lines before it do.
 */
export const assignNames = (entries: ReadonlyArray<{ readonly explicit?: string; readonly derived: string }>): ReadonlyArray<string> => {
  const taken = new Set(entries.flatMap((e) => (e.explicit === undefined ? [] : [e.explicit])))
  return entries.map((entry) => {
    if (entry.explicit !== undefined) return entry.explicit
    let candidate = entry.derived
    for (let n = 2; taken.has(candidate); n++) candidate = `${entry.derived}-${n}`
    taken.add(candidate)
    return candidate
  })
}
