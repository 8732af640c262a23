"""Write a tar stream of a file or directory to stdout (cp_out). argv: path.

Symbolic links are stored as links (never followed), so nothing outside the named tree is read.
"""
import os, sys, tarfile

def pack(path, stream):
    with tarfile.open(fileobj=stream, mode="w|", dereference=False, bufsize=1 << 20) as archive:
        archive.add(path, arcname=os.path.basename(os.path.normpath(path)) or ".", recursive=True)

if __name__ == "__main__":
    path = sys.argv[1]
    if not os.path.lexists(path):
        sys.stderr.write("no such file or directory: " + path + "\n")
        raise SystemExit(2)
    pack(path, sys.stdout.buffer)
