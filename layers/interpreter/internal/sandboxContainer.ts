// What a sandbox container is: its Docker create options (the sandbox defaults) and the labels
// that let a later run of the server recognise containers left by one that was killed.
import type Docker from "dockerode"
import * as Fs from "node:fs"

export interface SandboxSettings {
  readonly image: string
  readonly memory: number
  readonly cpus: number
  readonly pids: number
  readonly network: string
  /** undefined: the engine's default runtime. */
  readonly runtime: string | undefined
  readonly user: { readonly uid: number; readonly gid: number }
  readonly workspaceSize: number
  readonly tmpSize: number
}

export const sandboxLabel = "org.mcp-server-manager.sandbox"
export const ownerLabel = "org.mcp-server-manager.owner"

/** This process, in a form that survives pid reuse: boot id, pid and start time. */
export const processIdentity = (pid: number): string | undefined => {
  try {
    // sync-ok: two small /proc files, in memory, which cannot block
    const boot = Fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8") // sync-ok: /proc, as above
    const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]
    return `${boot}/${pid}/${startTime}`
  } catch {
    return undefined
  }
}

export const ownerAlive = (owner: string | undefined): boolean => {
  const pid = Number(owner?.split("/")[1])
  return owner !== undefined && Number.isInteger(pid) && processIdentity(pid) === owner
}

export const reasonOf = (error: unknown): string => {
  if (error instanceof Error) {
    const status = (error as { statusCode?: number }).statusCode
    const json = (error as { json?: { message?: string } }).json
    return json?.message ?? (status ? `${error.message} (HTTP ${status})` : error.message)
  }
  return String(error)
}

/** PY_EXEC_RUNTIME names a runtime the engine does not have: say which ones it has. */
export const unknownRuntimeReason = (runtime: string, known: ReadonlyArray<string>): string =>
  `the Docker engine has no runtime "${runtime}" (PY_EXEC_RUNTIME); its runtimes: ${known.join(", ") || "none listed"}. ` +
  `Register it in /etc/docker/daemon.json ("runtimes") and reload the engine (kill -HUP dockerd), or unset PY_EXEC_RUNTIME for the default ` +
  `(gVisor: docs/interpreter.md#gvisor)`

export const statusOf = (error: unknown): number | undefined =>
  error instanceof Error ? (error as { statusCode?: number }).statusCode : undefined

/** gVisor's runtime: runsc, or any name with "gvisor" in it. */
export const isGVisor = (runtime: string | undefined): boolean => runtime !== undefined && /runsc|gvisor/i.test(runtime)

/**
 * Under gVisor the engine's pids limit counts the host threads of gVisor's kernel (on the ptrace
 * platform about 50 at rest and 5 more per sandboxed process, measured), and reaching it kills the
 * whole sandbox instead of failing one fork. So the container gets room for PY_EXEC_PIDS processes
 * at this many host threads each; gVisor itself enforces each session's RLIMIT_NPROC inside.
 */
export const gVisorHostThreadsPerProcess = 8

/** Network mode none, a numeric non-root user, no capabilities, no-new-privileges, limits, read-only root. */
export const containerOptions = (settings: SandboxSettings, python: string, owner: string): Docker.ContainerCreateOptions => ({
    Image: settings.image,
    Entrypoint: [],
    Cmd: [python, "-c", "import signal\nwhile True: signal.pause()"],
    User: `${settings.user.uid}:${settings.user.gid}`,
    // not /workspace: a working directory inside a tmpfs mount makes Docker drop the mount's mode
    WorkingDir: "/",
    Env: ["PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "MPLBACKEND=Agg", "HOME=/tmp"],
    Labels: { [sandboxLabel]: "1", [ownerLabel]: owner },
    NetworkDisabled: settings.network === "none",
    HostConfig: {
      ...(settings.runtime === undefined ? {} : { Runtime: settings.runtime }),
      NetworkMode: settings.network,
      Init: true, // reaps the zombies that killed interpreters leave
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      PidsLimit: isGVisor(settings.runtime) ? settings.pids * gVisorHostThreadsPerProcess : settings.pids,
      Memory: settings.memory,
      MemorySwap: settings.memory, // no swap: a memory bomb ends quickly
      NanoCpus: Math.round(settings.cpus * 1e9),
      Tmpfs: {
        "/workspace": `rw,exec,nosuid,nodev,size=${settings.workspaceSize},mode=1777`,
        "/tmp": `rw,exec,nosuid,nodev,size=${settings.tmpSize},mode=1777`
      }
    }
  })
