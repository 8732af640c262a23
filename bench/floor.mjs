// The floor: the least a supervisor can do. Respawns each program the moment it exits, and answers
// one JSON line (its children) per line on a Unix socket; "restart-all" kills every child first.
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createServer } from "node:net"

const [programsFile, socketPath] = process.argv.slice(2)
const children = new Map()
let stopping = false
const start = (program) => {
  const child = spawn(program.file, program.args, { stdio: "ignore" })
  children.set(program.name, child)
  child.on("exit", () => stopping || start(program))
}
JSON.parse(readFileSync(programsFile, "utf8")).forEach(start)
const answer = (command) => {
  if (command === "restart-all") for (const child of children.values()) child.kill()
  return JSON.stringify([...children].map(([name, child]) => ({ name, pid: child.pid }))) + "\n"
}
createServer((socket) => {
  let buffer = ""
  socket.setEncoding("utf8").on("data", (data) => {
    for (buffer += data; buffer.includes("\n"); buffer = buffer.slice(buffer.indexOf("\n") + 1)) socket.write(answer(buffer.slice(0, buffer.indexOf("\n"))))
  })
}).listen(socketPath)
process.on("SIGTERM", () => {
  stopping = true
  for (const child of children.values()) child.kill("SIGKILL")
  process.exit(0)
})
