// Small Python programs run with `python3 -c` in the sandbox for file transfer and inspection.
// Files travel as tar streams over `docker exec` stdin/stdout: the container's root filesystem is
// read-only, which rules out Docker's archive API, and the copy runs as the session's own user.

/**
 * Extract a tar stream from stdin under a target path. argv: target, single ("1": the archive
 * holds one file, written at target, or inside it when target is a directory), base name.
 * Prints {"written": [...], "bytes": n}.
 */
export const extractTar = String.raw`
import json, os, sys, tarfile
target, single, base = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
if single and (os.path.isdir(target) or target.endswith("/")):
    target = os.path.join(target, base)
written, total = [], 0
# big reads and writes: every write becomes a frame on the docker exec stream
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|", bufsize=1 << 20) as archive:
    for member in archive:
        name = os.path.normpath(member.name)
        if name.startswith("/") or name == ".." or name.startswith("../"):
            raise SystemExit("refusing archive member " + member.name)
        path = target if single else os.path.join(target, name)
        if member.isdir():
            os.makedirs(path, exist_ok=True)
            continue
        if not member.isfile():
            continue
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        if os.path.isdir(path):
            raise SystemExit(path + " is a directory")
        source = archive.extractfile(member)
        with open(path, "wb") as out:
            while True:
                chunk = source.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
        os.chmod(path, member.mode & 0o777)
        written.append(os.path.abspath(path))
        total += member.size
print(json.dumps({"written": written, "bytes": total}))
`

/**
 * Write a tar stream of a file or directory to stdout. argv: path. Symbolic links are stored as
 * links (never followed), so nothing outside the named tree is read.
 */
export const packTar = String.raw`
import os, sys, tarfile
path = sys.argv[1]
if not os.path.lexists(path):
    sys.stderr.write("no such file or directory: " + path + "\n")
    raise SystemExit(2)
with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", dereference=False, bufsize=1 << 20) as archive:
    archive.add(path, arcname=os.path.basename(os.path.normpath(path)) or ".", recursive=True)
`

/** Installed distributions as JSON [{"name","version"}], sorted by name. */
export const listPackages = String.raw`
import json
try:
    from importlib import metadata
except ImportError:
    import importlib_metadata as metadata
seen = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name and name.lower() not in seen:
        seen[name.lower()] = {"name": name, "version": dist.version}
print(json.dumps(sorted(seen.values(), key=lambda p: p["name"].lower())))
`

/**
 * End a session: run as the session's own uid, kill(-1) reaches exactly that session's processes
 * (also any that left its process group), then the directories given go (its own and its home,
 * so the next session with that uid starts clean). argv: directories.
 */
export const endSession = String.raw`
import os, shutil, signal, sys
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
for directory in sys.argv[1:]:
    shutil.rmtree(directory, ignore_errors=True)
`
