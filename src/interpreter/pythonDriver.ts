// The program each session's persistent Python interpreter runs inside the sandbox container.
// It is passed with `python3 -c`, so the image needs nothing but Python (3.8+, standard library).
//
// Channel (newline-delimited JSON): requests arrive on stdin; events leave on the original stdout.
// During a run, file descriptors 1 and 2 are pipes read by two threads, so output of the code, of
// C extensions and of subprocesses is all captured, per stream, and forwarded while it arrives.
//   in:  {"t":"run","id":"1","code":"...","cap":100000}   {"t":"file","id":"2","path":"x.py","cap":...}
//        {"t":"interrupt"}
//   out: {"t":"ready","pid":12,"python":"3.11.2"}
//        {"t":"out","id":"1","s":"stdout","d":"text"}   (the first `cap` bytes of each stream)
//        {"t":"done","id":"1","error":null|{type,message,traceback},"value":null|"repr",
//         "seconds":0.01,"cut":{"stdout":0,"stderr":0},"tail":{"stdout":"","stderr":""}}
export const pythonDriver = String.raw`
import ast, codecs, json, linecache, os, queue, resource, runpy, signal, sys, threading, time, traceback

session_dir, nproc = sys.argv[1], int(sys.argv[2])
os.makedirs(session_dir, mode=0o700, exist_ok=True)
os.chdir(session_dir)
sys.path.insert(0, session_dir)
try:
    os.setsid()  # one process group per session: it can be killed as a whole
except OSError:
    pass
if nproc > 0:
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

driver_pid = os.getpid()
channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
requests_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
null = os.open(os.devnull, os.O_RDONLY)
os.dup2(null, 0)  # input() in user code sees EOF instead of our requests
os.close(null)
sys.stdin = open(os.devnull)
send_lock = threading.Lock()

def send(event):
    if os.getpid() != driver_pid:
        return  # a process forked by the user's code must never speak for the driver
    line = json.dumps(event, ensure_ascii=False) + "\n"
    with send_lock:
        channel.write(line)
        channel.flush()

running = False

def on_sigint(signum, frame):
    if running:
        raise KeyboardInterrupt
signal.signal(signal.SIGINT, on_sigint)

work = queue.Queue()

def read_requests():
    for line in requests_in:
        request = json.loads(line)
        if request.get("t") == "interrupt":
            if running:
                os.kill(os.getpid(), signal.SIGINT)
        else:
            work.put(request)
    work.put(None)
threading.Thread(target=read_requests, daemon=True).start()

class Forwarder(threading.Thread):
    """Reads one stream's pipe; sends the first cap bytes as they come, keeps a bounded tail."""
    def __init__(self, fd, stream, request_id, cap):
        super().__init__(daemon=True)
        self.fd, self.stream, self.request_id, self.cap = fd, stream, request_id, cap
        self.sent = 0
        self.cut = 0
        self.tail = b""
        self.tail_cap = max(cap // 5, 1)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.live = True
    def run(self):
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk or not self.live:
                break
            room = self.cap - self.sent
            head, rest = chunk[:room], chunk[room:]
            if head:
                self.sent += len(head)
                text = self.decoder.decode(head)
                if text:
                    send({"t": "out", "id": self.request_id, "s": self.stream, "d": text})
            if rest:
                self.cut += len(rest)
                self.tail = (self.tail + rest)[-self.tail_cap:]
        os.close(self.fd)
    def finish(self):
        self.join(0.5)
        self.live = False  # a background process may still hold the pipe: stop forwarding it
        cut = max(self.cut - len(self.tail), 0)
        return cut, self.tail.decode("utf-8", "replace")

namespace = {"__name__": "__main__", "__builtins__": __builtins__}

cells = 0

def run_cell(code):
    """Like a notebook cell: the value of a final expression is returned (as repr)."""
    global cells
    cells += 1
    name = "<cell %d>" % cells
    # tracebacks show the cell's source lines, as for a file
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    linecache.cache.pop("<cell %d>" % (cells - 1000), None)  # bounded
    tree = ast.parse(code, name, "exec")
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, name, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
        if value is not None:
            return repr(value)
    return None

def describe(error):
    # drop the driver's own frames (-c code is "<string>") and runpy's: show the user's code only
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f.filename != "<string>" and not f.filename.endswith("runpy.py")]
    lines = (["Traceback (most recent call last):\n"] + traceback.format_list(frames)) if frames else []
    lines += traceback.format_exception_only(type(error), error)
    return {"type": type(error).__name__, "message": str(error), "traceback": "".join(lines)}

def handle(request):
    global running
    request_id, cap = request["id"], request["cap"]
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    saved = (os.dup(1), os.dup(2))
    forwarders = []
    for fd, name in ((1, "stdout"), (2, "stderr")):
        r, w = os.pipe()
        os.dup2(w, fd)
        os.close(w)
        forwarder = Forwarder(r, name, request_id, cap)
        forwarder.start()
        forwarders.append(forwarder)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    error, value, status = None, None, 0
    started = time.monotonic()
    running = True
    try:
        if request["t"] == "file":
            sys.argv = [request["path"]]
            runpy.run_path(request["path"], run_name="__main__")
        else:
            value = run_cell(request["code"])
    except SystemExit as exit:
        if exit.code not in (None, 0):
            error = describe(exit)
            status = exit.code if isinstance(exit.code, int) else 1
    except BaseException as exception:
        error = describe(exception)
        status = 1
    finally:
        running = False
    if os.getpid() != driver_pid:
        os._exit(status)  # a fork of the driver (os.fork in user code) that got here is done
    seconds = time.monotonic() - started
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    os.close(saved[0])
    os.close(saved[1])
    (out_cut, out_tail), (err_cut, err_tail) = (f.finish() for f in forwarders)
    send({"t": "done", "id": request_id, "error": error, "value": value, "seconds": seconds,
          "cut": {"stdout": out_cut, "stderr": err_cut}, "tail": {"stdout": out_tail, "stderr": err_tail}})

send({"t": "ready", "pid": os.getpid(), "python": sys.version.split()[0]})
while True:
    request = work.get()
    if request is None:
        break
    try:
        handle(request)
    except KeyboardInterrupt:
        pass
`
