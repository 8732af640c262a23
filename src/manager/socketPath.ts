// Where the control socket lives, shared by the daemon and every client.
import * as Path from "node:path"

export const socketEnvVar = "MCP_MANAGER_SOCKET"

/**
 * The directory of the socket when there is no `$XDG_RUNTIME_DIR`. In /tmp anyone may create it
 * first, so the daemon uses it only when it is private (`privateDirProblem`).
 */
export const fallbackDir = (uid: number): string => `/tmp/mcp-manager-${uid}`

/**
 * `/run/mcp_manager.sock` for root; otherwise `$XDG_RUNTIME_DIR/mcp_manager.sock`, falling back to
 * `/tmp/mcp-manager-<uid>/mcp_manager.sock` (a private 0700 directory, checked by the daemon) when that is unset.
 */
export const defaultSocketPath = (env: NodeJS.ProcessEnv, uid: number): string =>
  uid === 0
    ? "/run/mcp_manager.sock"
    : env.XDG_RUNTIME_DIR
    ? Path.join(env.XDG_RUNTIME_DIR, "mcp_manager.sock")
    : Path.join(fallbackDir(uid), "mcp_manager.sock")

/** What `lstat` tells about a directory, as far as privacy goes. */
export interface DirStat {
  readonly uid: number
  readonly mode: number
  readonly isDirectory: () => boolean
  readonly isSymbolicLink: () => boolean
}

/**
 * Why `dir` is not private to `uid` (a real directory, not a symbolic link, owned by `uid`, mode
 * 0700), with the fix; undefined when it is. Someone who created it first could otherwise replace
 * the socket, or read and plant the daemon's records beside it.
 */
export const privateDirProblem = (dir: string, stat: DirStat, uid: number): string | undefined => {
  const mode = (stat.mode & 0o7777).toString(8).padStart(4, "0")
  const elsewhere = "or set XDG_RUNTIME_DIR, or pass --socket"
  if (stat.isSymbolicLink()) return `${dir} is a symbolic link, not a private directory: remove it, ${elsewhere}`
  if (!stat.isDirectory()) return `${dir} is not a directory: remove it, ${elsewhere}`
  if (stat.uid !== uid) {
    return `${dir} belongs to uid ${stat.uid} (mode ${mode}), not to this user (uid ${uid}): someone else created it first; ` +
      `remove it (as root or its owner), ${elsewhere}`
  }
  if ((stat.mode & 0o7777) !== 0o700) {
    return `${dir} has mode ${mode}, not 0700 (owner uid ${stat.uid}): others could replace the socket in it; ` +
      `check what is in it, then chmod 700 ${dir} (or remove it), ${elsewhere}`
  }
  return undefined
}

/** `--socket`, else `$MCP_MANAGER_SOCKET`, else the default for this user. */
export const resolveSocketPath = (flag: string | undefined, env: NodeJS.ProcessEnv, uid: number): string =>
  Path.resolve(flag ?? (env[socketEnvVar] || defaultSocketPath(env, uid)))

/** The daemon's runtime directory (records of the process groups it started) beside its socket. */
export const defaultStateDir = (env: NodeJS.ProcessEnv, uid: number): string =>
  uid === 0
    ? "/run/mcp-manager"
    : env.XDG_RUNTIME_DIR
    ? Path.join(env.XDG_RUNTIME_DIR, "mcp-manager")
    : fallbackDir(uid)

export const runtimeDirDescription =
  "$RUNTIME_DIRECTORY (set by systemd's RuntimeDirectory=), then /run/mcp-manager for root, else " +
  "$XDG_RUNTIME_DIR/mcp-manager (or /tmp/mcp-manager-<uid>)"

/**
 * `--runtime-dir`, else `$RUNTIME_DIRECTORY` (systemd's RuntimeDirectory=; the first, if it names
 * several), else the default for this user.
 */
export const resolveRuntimeDir = (flag: string | undefined, env: NodeJS.ProcessEnv, uid: number): string =>
  Path.resolve(flag ?? (env.RUNTIME_DIRECTORY?.split(":")[0] || defaultStateDir(env, uid)))
