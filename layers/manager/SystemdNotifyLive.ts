// ServiceManager for systemd's notify protocol (Type=notify), spoken through `systemd-notify`.
//
// Why a program: the protocol is one datagram on the Unix socket named by $NOTIFY_SOCKET, and
// Node.js has no Unix datagram sockets; the npm packages that add them are native addons (built per
// Node.js version, and they cannot be bundled into dist/). systemd-notify ships in the systemd
// package, so it is there wherever the protocol is, and it is robust in the two ways that matter:
// - it waits (BARRIER=1) until systemd has processed the message, so systemd reads it while the
//   sender is alive and can find the sender's unit: no notification lost to the sender exiting
//   first, the classic race of fire-and-forget notifiers (which breaks NotifyAccess=all);
// - run as root by the daemon itself, it sends with the daemon's pid (its parent) as the sender,
//   so systemd attributes the message to the main process.
// The unit says NotifyAccess=all so that a non-root User= (no pid faking) works too. Each message
// is one short-lived process, so callers send rarely: READY once, STATUS at most once a second.
import { Effect, Layer } from "effect"
import * as CP from "node:child_process"
import { NotifyFailed, ServiceManager, type ServiceNotification } from "../../services/manager/ServiceManager.js"

const notifyProgram = "systemd-notify"
/** systemd-notify itself gives up waiting for the barrier after 5 s. */
const notifyTimeoutMillis = 10_000

const assignments = (notification: ServiceNotification): ReadonlyArray<string> => [
  ...(notification.ready ? ["READY=1"] : []),
  ...(notification.stopping ? ["STOPPING=1"] : []),
  // one line: a newline would start another assignment
  ...(notification.status === undefined ? [] : [`STATUS=${notification.status.replace(/[\r\n]+/g, " ")}`])
]

const send = (socket: string, args: ReadonlyArray<string>) =>
  Effect.async<void, NotifyFailed>((resume) => {
    const failed = (reason: string, cause: unknown) => resume(Effect.fail(new NotifyFailed({ sent: args.join(" "), reason, cause })))
    const child = CP.execFile(
      notifyProgram,
      [...args],
      {
        // nothing else of ours: it only needs the socket (and PATH to be found)
        env: { NOTIFY_SOCKET: socket, PATH: process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
        timeout: notifyTimeoutMillis,
        encoding: "utf8"
      },
      (error, _stdout, stderr) => {
        if (error === null) return resume(Effect.void)
        if (error.code === "ENOENT") return failed(`${notifyProgram} not found (it comes with systemd)`, error)
        const said = stderr.trim().split("\n")[0]
        failed(said ? `${notifyProgram}: ${said}` : error.killed ? `${notifyProgram} did not finish in ${notifyTimeoutMillis / 1000}s` : error.message, error)
      }
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

export const SystemdNotifyLive = Layer.effect(
  ServiceManager,
  Effect.gen(function*() {
    const socket = process.env.NOTIFY_SOCKET
    if (!socket) return ServiceManager.of({ listening: false, notify: () => Effect.void })
    // one message at a time, in order: READY=1 must not overtake the STATUS= sent before it
    const inOrder = yield* Effect.makeSemaphore(1)
    return ServiceManager.of({
      listening: true,
      notify: (notification) => {
        const args = assignments(notification)
        return args.length === 0 ? Effect.void : inOrder.withPermits(1)(send(socket, args))
      }
    })
  })
)
