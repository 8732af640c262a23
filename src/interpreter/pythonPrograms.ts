// The Python programs the sandbox runs with `python -c`, as source text: real .py files in
// ./python/, bundled as text (esbuild's "text" loader; a plugin in the vitest configs). Each takes
// its arguments from argv, documented at the top of its file.
import driver from "./python/driver.py"
import notebook from "./python/notebook.py"

/**
 * Each session's persistent interpreter. `python -c` takes one program, so the driver's module
 * notebook.py goes first in the same string (driver.py imports it only when imported on its own).
 */
export const pythonDriver = `${notebook}\n${driver}`

// Files travel as tar streams over `docker exec` stdin/stdout: the container's root filesystem is
// read-only, which rules out Docker's archive API, and the copy runs as the session's own user.
/** Extract a tar stream from stdin under a target path. argv: target, single ("1"/"0"), base name. */
export { default as extractTar } from "./python/extract_tar.py"
/** Write a tar stream of a file or directory to stdout. argv: path. */
export { default as packTar } from "./python/pack_tar.py"
/** Installed distributions as JSON [{"name","version"}], sorted by name. */
export { default as listPackages } from "./python/list_packages.py"
/** Kill every process of the session's uid, then remove the directories given. argv: directories. */
export { default as endSession } from "./python/end_session.py"
