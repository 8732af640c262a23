"""The program each session's persistent Python interpreter runs inside the sandbox container.

Passed with `python -u -c <notebook.py + this file> SESSION_DIR NPROC` (python -c takes one
program, so notebook.py goes first in the same string), so the image needs nothing but Python
(3.8+, standard library). Importing it (the unit tests) starts nothing: main() runs only as
__main__.

Channel (newline-delimited JSON): requests arrive on stdin; events leave on the original stdout.
During a run, file descriptors 1 and 2 are pipes read by one thread, so output of the code, of
C extensions and of subprocesses is all captured, per stream, and forwarded while it arrives.
  in:  {"t":"run","id":"1","code":"...","cap":100000}   {"t":"file","id":"2","path":"x.py","cap":...}
       {"t":"interrupt"}
  out: {"t":"ready","pid":12,"python":"3.11.2"}
       {"t":"out","id":"1","s":"stdout","d":"text"}   (the first `cap` bytes of each stream)
       {"t":"done","id":"1","error":null|{type,message,traceback},"value":null|"repr",
        "seconds":0.01,"cut":{"stdout":0,"stderr":0},"tail":{"stdout":"","stderr":""}}
"""
import codecs, json, os, queue, resource, runpy, select, signal, sys, threading, time

if __name__ != "__main__":
    # imported on its own (the unit tests); in the sandbox notebook.py's names are already here
    from notebook import capture_figures, describe, figure_notes, figures, run_cell

# Set by main(); module-level so the threads and the signal handler reach them.
nproc = 0
driver_pid = None
channel = None
send_lock = threading.Lock()
running = False
work = queue.Queue()
pump = None

def send(event):
    if os.getpid() != driver_pid:
        return  # a process forked by the user's code must never speak for the driver
    line = json.dumps(event, ensure_ascii=False) + "\n"
    with send_lock:
        channel.write(line)
        channel.flush()

def on_sigint(signum, frame):
    if running:
        raise KeyboardInterrupt

def read_requests(requests_in):
    for line in requests_in:
        request = json.loads(line)
        if request.get("t") == "interrupt":
            if running:
                os.kill(os.getpid(), signal.SIGINT)
        else:
            work.put(request)
    work.put(None)

class Capture:
    """One stream of one run: the first cap bytes are sent as they come, a bounded tail is kept."""
    def __init__(self, stream, request_id, cap):
        self.stream, self.request_id, self.cap = stream, request_id, cap
        self.sent = 0
        self.cut = 0
        self.tail = bytearray()
        self.tail_cap = max(cap // 5, 1)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.live = True
        self.closed = threading.Event()
        self.pending = []
        self.pending_bytes = 0
    def take(self, chunk):
        if not self.live:
            return  # the run is over; a background process still writes to its pipe
        room = self.cap - self.sent
        head, rest = chunk[:room], chunk[room:]
        if head:
            self.sent += len(head)
            self.pending.append(head)
            self.pending_bytes += len(head)
        if rest:
            self.cut += len(rest)
            self.tail += rest
            if len(self.tail) > 2 * self.tail_cap:  # trim now and then, not on every chunk
                del self.tail[:-self.tail_cap]
    def flush(self):
        """Send what arrived since the last flush as one event (many tiny writes, few messages)."""
        if self.pending:
            text = self.decoder.decode(b"".join(self.pending))
            self.pending, self.pending_bytes = [], 0
            if text:
                send({"t": "out", "id": self.request_id, "s": self.stream, "d": text})
    def finish(self, deadline):
        self.closed.wait(max(deadline - time.monotonic(), 0))
        self.live = False
        pump.flush_now(self)
        tail = bytes(self.tail[-self.tail_cap:])
        return max(self.cut - len(tail), 0), tail.decode("utf-8", "replace")

class Pump(threading.Thread):
    """One long-lived thread reads every capture pipe (poll), so a run needs no new thread: a
    fork bomb that exhausts the session's process limit cannot break output capture."""
    def __init__(self):
        super().__init__(daemon=True)
        self.added = queue.Queue()
        self.wake_r, self.wake_w = os.pipe()
        self.poller = select.poll()
        self.captures = {}
        self.flush_lock = threading.Lock()
    def add(self, fd, capture):
        self.added.put((fd, capture))
        os.write(self.wake_w, b".")
    def flush_now(self, capture):
        with self.flush_lock:
            capture.flush()
    def run(self):
        self.poller.register(self.wake_r, select.POLLIN)
        last_flush = time.monotonic()
        while True:
            waiting = any(c.pending for c in self.captures.values())
            ready = self.poller.poll(20 if waiting else None)
            now = time.monotonic()
            if waiting and (not ready or now - last_flush >= 0.02 or any(c.pending_bytes > 65536 for c in self.captures.values())):
                with self.flush_lock:
                    for capture in self.captures.values():
                        capture.flush()
                last_flush = now
            for fd, _ in ready:
                if fd == self.wake_r:
                    os.read(self.wake_r, 4096)
                    while not self.added.empty():
                        new_fd, capture = self.added.get()
                        self.captures[new_fd] = capture
                        self.poller.register(new_fd, select.POLLIN)
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                capture = self.captures.get(fd)
                if chunk and capture is not None:
                    with self.flush_lock:  # finish() may flush from the main thread
                        capture.take(chunk)
                    continue
                self.poller.unregister(fd)
                os.close(fd)
                if capture is not None:
                    self.flush_now(capture)
                    self.captures.pop(fd).closed.set()

# matplotlib: a backend of our own whose show() hands the figures to the run instead of a window.
INLINE_BACKEND = (
    "from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas\n"
    "from matplotlib.backend_bases import FigureManagerBase as FigureManager\n"
    "def show(*args, **kwargs):\n"
    "    import sys\n"
    "    driver = sys.modules.get('__main__')\n"
    "    if hasattr(driver, 'capture_figures'):\n"
    "        driver.capture_figures()\n"
)

def stray_processes():
    """Processes of this session's uid other than the driver (the sandbox shows only its own)."""
    count, me, uid = 0, os.getpid(), os.getuid()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                if os.stat("/proc/" + entry).st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count

def handle(request):
    global running
    request_id, cap = request["id"], request["cap"]
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    saved = (os.dup(1), os.dup(2))
    captures = []
    for fd, name in ((1, "stdout"), (2, "stderr")):
        r, w = os.pipe()
        os.dup2(w, fd)
        os.close(w)
        capture = Capture(name, request_id, cap)
        pump.add(r, capture)
        captures.append(capture)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False, buffering=1)
    error, value, status = None, None, 0
    del figures[:]
    del figure_notes[:]
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
    try:
        capture_figures()  # figures left open at the end of the cell
    except Exception as failure:
        figure_notes.append("figures could not be collected: %s" % failure)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    os.close(saved[0])
    os.close(saved[1])
    # a background process may keep a pipe open: wait for the rest of the output half a second at most
    deadline = time.monotonic() + 0.5
    (out_cut, out_tail), (err_cut, err_tail) = (c.finish(deadline) for c in captures)
    notes = list(figure_notes)
    strays = stray_processes()
    if nproc > 0 and strays >= nproc // 2:
        os.kill(-1, signal.SIGKILL)  # every process of this session's uid except the driver itself
        notes.append("%d processes left running by the code (a fork bomb?) were killed: the session's process limit is %d" % (strays, nproc))
    shown, shown_as = value if value is not None else (None, None)
    send({"t": "done", "id": request_id, "error": error, "value": shown, "value_kind": shown_as, "seconds": seconds,
          "notes": notes, "figures": list(figures),
          "cut": {"stdout": out_cut, "stderr": err_cut}, "tail": {"stdout": out_tail, "stderr": err_tail}})

def main(argv):
    global nproc, driver_pid, channel, pump
    session_dir, nproc = argv[0], int(argv[1])
    os.makedirs(session_dir, mode=0o700, exist_ok=True)
    os.chdir(session_dir)
    sys.path.insert(0, session_dir)
    # where install_packages puts packages: the session's own, then the ones shared by all sessions
    sys.path[1:1] = [os.path.join(session_dir, ".packages"), "/workspace/.packages"]
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
    signal.signal(signal.SIGINT, on_sigint)
    threading.Thread(target=read_requests, args=(requests_in,), daemon=True).start()
    pump = Pump()
    pump.start()

    # The backend lives in the session's home (on the Python path), so subprocesses importing it just get Agg.
    backend_dir = os.path.join(os.environ.get("HOME", "/tmp"), ".mcp-python")
    os.makedirs(backend_dir, exist_ok=True)
    with open(os.path.join(backend_dir, "mcp_inline.py"), "w") as backend:
        backend.write(INLINE_BACKEND)
    sys.path.insert(1, backend_dir)
    os.environ["PYTHONPATH"] = backend_dir + os.pathsep + os.environ.get("PYTHONPATH", "")
    os.environ["MPLBACKEND"] = "module://mcp_inline"

    send({"t": "ready", "pid": os.getpid(), "python": sys.version.split()[0]})
    while True:
        request = work.get()
        if request is None:
            break
        try:
            handle(request)
        except KeyboardInterrupt:
            pass

if __name__ == "__main__":
    main(sys.argv[1:])
