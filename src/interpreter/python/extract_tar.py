"""Extract a tar stream from stdin under a target path; prints {"written": [...], "bytes": n}.

argv: target, single ("1": the archive holds one file, written at target, or inside it when
target is a directory), base name. Run with `python -c` as the session's own user (cp_in).
"""
import json, os, sys, tarfile

def extract(stream, target, single, base):
    if single and (os.path.isdir(target) or target.endswith("/")):
        target = os.path.join(target, base)
    written, total = [], 0
    # big reads and writes: every write becomes a frame on the docker exec stream
    with tarfile.open(fileobj=stream, mode="r|", bufsize=1 << 20) as archive:
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
    return {"written": written, "bytes": total}

if __name__ == "__main__":
    print(json.dumps(extract(sys.stdin.buffer, sys.argv[1], sys.argv[2] == "1", sys.argv[3])))
