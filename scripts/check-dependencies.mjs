// Fails (exit 1) when an import points the wrong way, reaches into another part, or closes a cycle.
// Every import of src/, services/ and layers/ counts, `import type` and `export … from` included:
// a type-only edge still ties the two files together for a reader and for refactoring.
//
// Levels, highest first; a file imports only its own level or a lower one, and nothing imports a
// program:  programs (src/daemon.ts, src/mcpctl.ts, src/server.ts) → layers/ → services/ → pure src/.
// Parts: the folder after src/, services/ or layers/ (manager, interpreter, …). A part imports only
// itself and layers/shared/, except for the pieces allowed below. layers/<part>/internal/ is private
// to layers/<part>/.
import * as Fs from "node:fs"
import * as Path from "node:path"
import ts from "typescript"

const root = Path.resolve(import.meta.dirname, "..")
const roots = ["src", "services", "layers"]
const programs = new Map([["src/daemon.ts", "manager"], ["src/mcpctl.ts", "manager"], ["src/server.ts", "interpreter"]])
const levels = ["pure src/", "services/", "layers/", "program"]

/**
 * What the interpreter may use of the manager: its manager_status and manager_restart tools are a
 * client of the daemon's control socket, like mcpctl. So the protocol, the socket's path rules and
 * the client (its service and its layer), and nothing of the daemon itself.
 */
const acrossParts = {
  interpreter: ["src/protocol/", "src/manager/socketPath.ts", "services/manager/ControlClient.ts", "layers/manager/ControlClientLive.ts"]
}

/** Parts every part may import. */
const sharedParts = new Set(["shared"])

const sourceFiles = (dir) =>
  Fs.readdirSync(Path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) return sourceFiles(path)
    return /\.(ts|mts|tsx)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : []
  })

const files = roots.flatMap(sourceFiles).sort()

const { config } = ts.readConfigFile(Path.join(root, "tsconfig.json"), ts.sys.readFile)
const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root)

/** Every module specifier in the file: imports, re-exports, `import x = require()`, import() and import("…") types. */
const specifiersOf = (file) => {
  const source = ts.createSourceFile(file, Fs.readFileSync(Path.join(root, file), "utf8"), ts.ScriptTarget.Latest, true)
  const found = []
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text)
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression
      if (ts.isStringLiteral(expression)) found.push(expression.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments
      if (argument && ts.isStringLiteralLike(argument)) found.push(argument.text)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** The repository path a relative specifier names (TypeScript's resolution, or the file as named: .py, .json). */
const resolve = (file, specifier) => {
  const resolved = ts.resolveModuleName(specifier, Path.join(root, file), options, ts.sys).resolvedModule
  const absolute = resolved && !resolved.isExternalLibraryImport
    ? resolved.resolvedFileName
    : Path.resolve(root, Path.dirname(file), specifier)
  return Fs.existsSync(absolute) ? Path.relative(root, absolute).split(Path.sep).join("/") : undefined
}

const describe = (file) => {
  const [top, part] = file.split("/")
  if (programs.has(file)) return { level: 3, part: programs.get(file) }
  if (top === "layers") return { level: 2, part }
  if (top === "services") return { level: 1, part }
  if (top === "src") return { level: 0, part: part === "protocol" ? "manager" : part }
  return undefined // outside the checked tree (package.json, …): nothing to say
}

const violations = []
const edges = new Map(files.map((file) => [file, []]))
let imports = 0

for (const file of files) {
  const from = describe(file)
  for (const specifier of specifiersOf(file)) {
    if (!specifier.startsWith(".")) continue // packages
    imports++
    const target = resolve(file, specifier)
    if (target === undefined) {
      violations.push(`${file} → ${specifier}: does not resolve to a file`)
      continue
    }
    const to = describe(target)
    if (to === undefined) continue
    if (edges.has(target)) edges.get(file).push(target)
    const rule = (text) => violations.push(`${file} → ${target}: ${text}`)
    if (to.level === 3) rule("nothing imports a program")
    else if (to.level > from.level) rule(`upward import (${levels[from.level]} must not import ${levels[to.level]})`)
    const internal = /^layers\/([^/]+)\/internal\//.exec(target)
    if (internal && !file.startsWith(`layers/${internal[1]}/`)) rule(`layers/${internal[1]}/internal/ is private to layers/${internal[1]}/`)
    if (from.part !== to.part && !sharedParts.has(to.part) && !(acrossParts[from.part] ?? []).some((allowed) => target.startsWith(allowed))) {
      rule(`the ${from.part} part does not import ${to.part} code`)
    }
  }
}

// Cycles: Tarjan's strongly connected components; each one is reported once, as one concrete loop.
const index = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
const components = []
let counter = 0
const connect = (file) => {
  index.set(file, counter)
  low.set(file, counter++)
  stack.push(file)
  onStack.add(file)
  for (const next of edges.get(file)) {
    if (!index.has(next)) {
      connect(next)
      low.set(file, Math.min(low.get(file), low.get(next)))
    } else if (onStack.has(next)) {
      low.set(file, Math.min(low.get(file), index.get(next)))
    }
  }
  if (low.get(file) === index.get(file)) {
    const component = []
    let member
    do {
      member = stack.pop()
      onStack.delete(member)
      component.push(member)
    } while (member !== file)
    if (component.length > 1 || edges.get(file).includes(file)) components.push(new Set(component))
  }
}
for (const file of files) if (!index.has(file)) connect(file)

/** The shortest way back to `start` inside its component (breadth-first). */
const loopThrough = (start, component) => {
  const previous = new Map([[start, undefined]])
  const queue = [start]
  while (queue.length > 0) {
    const file = queue.shift()
    for (const next of edges.get(file)) {
      if (!component.has(next)) continue
      if (next === start) {
        const path = [file]
        while (previous.get(path[0]) !== undefined) path.unshift(previous.get(path[0]))
        return [...path, start]
      }
      if (!previous.has(next)) {
        previous.set(next, file)
        queue.push(next)
      }
    }
  }
  return [start, start]
}
for (const component of components) {
  const start = [...component].sort()[0]
  violations.push(`${loopThrough(start, component).join(" → ")}: import cycle`)
}

for (const violation of violations) console.log(violation)
console.log(
  `check-dependencies: ${files.length} files, ${imports} relative imports: ` +
    (violations.length === 0 ? "no violations" : `${violations.length} violation(s)`)
)
process.exitCode = violations.length === 0 ? 0 : 1
