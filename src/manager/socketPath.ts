// Where the control socket lives, shared by the daemon and every client.
import * as Path from "node:path"

export const socketEnvVar = "MCP_MANAGER_SOCKET"

/**
 * `/run/mcp_manager.sock` for root; otherwise `$XDG_RUNTIME_DIR/mcp_manager.sock`, falling back to
 * `/tmp/mcp-manager-<uid>/mcp_manager.sock` (a private 0700 directory) when that is unset.
 */
export const defaultSocketPath = (env: NodeJS.ProcessEnv, uid: number): string =>
  uid === 0
    ? "/run/mcp_manager.sock"
    : env.XDG_RUNTIME_DIR
    ? Path.join(env.XDG_RUNTIME_DIR, "mcp_manager.sock")
    : `/tmp/mcp-manager-${uid}/mcp_manager.sock`

/** `--socket`, else `$MCP_MANAGER_SOCKET`, else the default for this user. */
export const resolveSocketPath = (flag: string | undefined, env: NodeJS.ProcessEnv, uid: number): string =>
  Path.resolve(flag ?? (env[socketEnvVar] || defaultSocketPath(env, uid)))

/** The daemon's runtime directory (records of the process groups it started) beside its socket. */
export const defaultStateDir = (env: NodeJS.ProcessEnv, uid: number): string =>
  uid === 0
    ? "/run/mcp-manager"
    : env.XDG_RUNTIME_DIR
    ? Path.join(env.XDG_RUNTIME_DIR, "mcp-manager")
    : `/tmp/mcp-manager-${uid}`

export const runtimeDirDescription =
  "$RUNTIME_DIRECTORY (set by systemd's RuntimeDirectory=), then /run/mcp-manager for root, else " +
  "$XDG_RUNTIME_DIR/mcp-manager (or /tmp/mcp-manager-<uid>)"

/**
 * `--runtime-dir`, else `$RUNTIME_DIRECTORY` (systemd's RuntimeDirectory=; the first, if it names
 * several), else the default for this user.
 */
export const resolveRuntimeDir = (flag: string | undefined, env: NodeJS.ProcessEnv, uid: number): string =>
  Path.resolve(flag ?? (env.RUNTIME_DIRECTORY?.split(":")[0] || defaultStateDir(env, uid)))
