// src/interpreter/: the code interpreter's domain, pure: its settings, the tools (this file), their arguments and
// their results, the host path rules, and python/, the programs that run inside the sandbox.
//
// The MCP tools of mcp-code-interpreter as a client sees them: name, title, description, input and
// output schemas, annotations; and the Python a tool runs for its work. Their handlers, which run
// on the services, are in layers/interpreter/ToolServerLive.ts.
import { Duration } from "effect"
import * as z from "zod/v4"
import type { Settings } from "./settings.js"
import { strictArguments } from "./toolArguments.js"
import { copyOutput, runOutput, sessionIdArg } from "./toolResults.js"

/** A pip requirement: a name with optional extras and version constraints, never an option. */
const requirement = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?([<>=!~]=?[A-Za-z0-9.*+!-]+(,[<>=!~]=?[A-Za-z0-9.*+!-]+)*)?$/, {
  message: "a package name with optional extras and version, like pandas, requests[socks] or numpy>=1.26"
})

/** Package installs download and build: they get longer than a code cell. */
export const installTimeout = Duration.minutes(10)

/** Every tool but the manager's, keyed by its name, with the limits of these settings in the descriptions. */
export const interpreterTools = (settings: Settings) => {
  const timeout = Duration.format(settings.timeout)
  const ttl = Duration.format(settings.sessionTtl)
  const outputCap = `${Math.round(settings.maxOutput / 1000)} KB`
  const roots = `local paths are relative to the host work directories (cp_in reads ${settings.workdirIn}, cp_out writes ${settings.workdirOut})`
  return {
    init: {
      title: "Start a Python session",
      description:
        `Start a persistent Python session and return its session_id. Pass the id to run_code, run_file and the file tools: ` +
        `variables, imports and files then persist between calls, like notebook cells. The session's directory ` +
        `/workspace/sessions/<id> is its working directory. Sessions end after ${ttl} without use, or with close_session; ` +
        `at most ${settings.sessionMax} can be open.`,
      inputSchema: strictArguments({}),
      outputSchema: { session_id: z.string(), directory: z.string(), idle_timeout_seconds: z.number() },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }
    },
    close_session: {
      title: "Close a Python session",
      description: "End a session now: its interpreter, its processes and its directory are removed.",
      inputSchema: strictArguments({ session_id: z.string().min(1).max(64).describe("The session to close") }),
      outputSchema: { session_id: z.string(), closed: z.boolean() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false }
    },
    run_code: {
      title: "Run Python code",
      description:
        `Run Python 3 code in a sandbox (no network, limited memory and CPU). With session_id the code runs in that ` +
        `session's interpreter, so state persists between calls; without it, in a temporary session deleted afterwards. ` +
        `The value of a final expression is returned like a notebook cell's. stdout and stderr are captured separately ` +
        `(each up to ${outputCap}; beyond that the middle is cut and the end kept). Exceptions return the traceback as an ` +
        `error. A call that runs longer than ${timeout} is interrupted with KeyboardInterrupt.`,
      inputSchema: strictArguments({ code: z.string().max(1_000_000).describe("Python source to execute"), session_id: sessionIdArg }),
      outputSchema: runOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }
    },
    run_file: {
      title: "Run a Python file",
      description:
        `Run a Python file that is in the sandbox (put it there with cp_in or edit_file) as __main__. A relative path is ` +
        `relative to the session's directory (without session_id: to /workspace). Same output, limits and errors as run_code.`,
      inputSchema: strictArguments({ path: z.string().min(1).max(4096).describe("Path of the .py file in the sandbox"), session_id: sessionIdArg }),
      outputSchema: runOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }
    },
    cp_in: {
      title: "Copy a file into the sandbox",
      description:
        `Copy a file or directory from the host into the sandbox. ${roots}; absolute paths, ".." and symbolic links ` +
        `leading outside are refused. container_path defaults to the session's directory (or /workspace) with the same name; ` +
        `a relative container_path is relative to it.`,
      inputSchema: strictArguments({
        local_path: z.string().max(4096).describe(`Path relative to ${settings.workdirIn}`),
        container_path: z.string().max(4096).optional().describe("Destination in the sandbox"),
        session_id: z.string().min(1).max(64).optional().describe("Session whose directory (and user) to copy into; omit for /workspace")
      }),
      outputSchema: copyOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false }
    },
    cp_out: {
      title: "Copy a file out of the sandbox",
      description:
        `Copy a file or directory from the sandbox to the host. ${roots}. local_path defaults to the file's own name; an ` +
        `existing directory receives the file inside it. Existing files are replaced; directories and symbolic links are ` +
        `never written through or replaced by a file. With return_image, a picture (e.g. a saved plot) also comes back as image content.`,
      inputSchema: strictArguments({
        container_path: z.string().min(1).max(4096).describe("Path in the sandbox; relative paths are relative to the session's directory (or /workspace)"),
        local_path: z.string().max(4096).optional().describe(`Destination relative to ${settings.workdirOut}`),
        session_id: z.string().min(1).max(64).optional().describe("Session whose directory relative paths refer to"),
        return_image: z.boolean().optional().describe("Also return a PNG, JPEG, GIF, WebP or SVG file as image content, to look at it")
      }),
      outputSchema: copyOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false }
    },
    edit_file: {
      title: "Write a file in the sandbox",
      description:
        "Create or replace a text file in the sandbox with the given content (parent directories are created). A relative " +
        "container_path is relative to the session's directory (or /workspace).",
      inputSchema: strictArguments({
        container_path: z.string().min(1).max(4096).describe("Path of the file in the sandbox"),
        content: z.string().max(50_000_000).describe("The whole new content of the file"),
        session_id: z.string().min(1).max(64).optional().describe("Session whose directory (and user) to write in")
      }),
      outputSchema: copyOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false }
    },
    list_packages: {
      title: "List installed Python packages",
      description: "List the Python packages installed in the sandbox image, with versions.",
      inputSchema: strictArguments({}),
      outputSchema: { packages: z.array(z.object({ name: z.string(), version: z.string() })), count: z.number().int() },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
    },
    install_packages: {
      title: "Install Python packages",
      description:
        "Install Python packages with pip. With session_id they go into that session only (its directory's .packages); " +
        "without, into /workspace/.packages, shared by every session. Needs network access from the sandbox: when " +
        "the sandbox has none (the default), the answer says so and how to enable it; use list_packages to see what the " +
        "image already has.",
      inputSchema: strictArguments({
        packages: z.array(requirement).min(1).max(50).describe("Requirements, e.g. [\"requests\", \"numpy>=1.26\"]"),
        session_id: z.string().min(1).max(64).optional().describe("Session to install into; omit to install for all sessions")
      }),
      outputSchema: runOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true }
    },
    reset: {
      title: "Reset the sandbox",
      description: "Close every session and replace the sandbox container with a fresh one. All variables and sandbox files are lost.",
      inputSchema: strictArguments({}),
      outputSchema: { sessions_closed: z.number().int() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false }
    }
  }
}

/** run_file's path in the sandbox: without a session, a relative path is relative to /workspace. */
export const runFilePath = (path: string, sessionId: string | undefined) =>
  path.startsWith("/") || sessionId !== undefined ? path : `/workspace/${path}`

/** Why run_file refuses a path before running anything, if it does. */
export const refusedRunFilePath = (path: string) =>
  path.includes("\0") ? `refused path ${JSON.stringify(path)}: it contains a NUL byte` : undefined

export const noNetworkForInstall =
  "the sandbox has no network (PY_EXEC_NETWORK=none), so pip cannot download packages. To allow installs, " +
  "restart the server with PY_EXEC_NETWORK=bridge (the sandbox then reaches the internet), or use an image " +
  "that already contains them (docker/Dockerfile shows how to build one); list_packages shows what is installed."

/** install_packages runs pip in the session's interpreter: `--target` the session's or the shared .packages. */
export const installCode = (packages: ReadonlyArray<string>, sessionId: string | undefined) => {
  const target = sessionId === undefined ? "/workspace/.packages" : ".packages"
  return [
    "import importlib, subprocess, sys",
    `_pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--break-system-packages", "--target", ${JSON.stringify(target)}, *${JSON.stringify(packages)}])`,
    "importlib.invalidate_caches()",
    "if _pip.returncode != 0:",
    "    raise SystemExit(f'pip failed with exit code {_pip.returncode}')"
  ].join("\n")
}
