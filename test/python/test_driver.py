"""driver.py: what a run sends on the channel (output up to the cap, a bounded tail), and who may send."""
import io, json, os, shutil, subprocess, sys, tempfile, time, unittest

import driver


class Output(unittest.TestCase):
    def setUp(self):
        self.channel = io.StringIO()
        driver.channel, driver.driver_pid = self.channel, os.getpid()
        driver.pump = driver.Pump()  # never started: finish() only borrows its flush lock
        self.addCleanup(os.close, driver.pump.wake_r)
        self.addCleanup(os.close, driver.pump.wake_w)

    def sent(self):
        return [json.loads(line) for line in self.channel.getvalue().splitlines()]

    def finished(self, capture):
        capture.closed.set()  # as the pump does when the pipe closes
        return capture.finish(time.monotonic() + 1)

    def test_output_within_the_cap_is_sent_whole_and_nothing_is_cut(self):
        capture = driver.Capture("stdout", "7", 100)
        capture.take(b"hello ")
        capture.take(b"world\n")
        self.assertEqual(self.finished(capture), (0, ""))
        self.assertEqual(self.sent(), [{"t": "out", "id": "7", "s": "stdout", "d": "hello world\n"}])

    def test_output_over_the_cap_sends_the_head_counts_the_cut_and_keeps_a_fifth_as_tail(self):
        capture = driver.Capture("stderr", "8", 10)
        capture.take(b"a" * 7)
        capture.take(b"aaa0123456789ABCDE")
        self.assertEqual(self.finished(capture), (13, "DE"))
        self.assertEqual([e["d"] for e in self.sent()], ["a" * 10])

    def test_the_tail_stays_bounded_however_much_is_written(self):
        capture = driver.Capture("stdout", "9", 50)
        for _ in range(1000):
            capture.take(b"x" * 1000)
            self.assertLessEqual(len(capture.tail), 2 * capture.tail_cap)
        cut, tail = self.finished(capture)
        self.assertEqual((cut, tail), (1000 * 1000 - 50 - 10, "x" * 10))

    def test_a_character_split_between_chunks_is_sent_once_whole(self):
        capture = driver.Capture("stdout", "1", 100)
        capture.take(b"caf\xc3")
        capture.flush()
        capture.take(b"\xa9")
        capture.flush()
        self.assertEqual([e["d"] for e in self.sent()], ["caf", "\u00e9"])

    def test_output_after_the_run_ended_is_dropped(self):
        capture = driver.Capture("stdout", "1", 100)
        capture.take(b"in time")
        self.finished(capture)
        capture.take(b"too late")
        capture.flush()
        self.assertEqual([e["d"] for e in self.sent()], ["in time"])

    def test_a_forked_process_never_speaks_for_the_driver(self):
        driver.driver_pid = os.getpid() + 1
        driver.send({"t": "out", "id": "1", "s": "stdout", "d": "from a fork"})
        self.assertEqual(self.channel.getvalue(), "")


class StrayProcesses(unittest.TestCase):
    def test_counts_the_other_processes_of_this_uid(self):
        before = driver.stray_processes()
        child = subprocess.Popen(["sleep", "30"])
        try:
            self.assertEqual(driver.stray_processes(), before + 1)
        finally:
            child.kill()
            child.wait()


class Program(unittest.TestCase):
    """The argv / stdin / stdout contract of the whole program (importing it above started nothing)."""
    def test_runs_a_cell_over_the_channel(self):
        # the program as the sandbox gets it: notebook.py, then driver.py, one `python -c` string
        source = ""
        for module in (sys.modules["notebook"], driver):
            with open(module.__file__) as file:
                source += file.read() + "\n"
        home = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, home, ignore_errors=True)
        request = json.dumps({"t": "run", "id": "1", "code": "print('hi')\n6 * 7", "cap": 1000})
        done = subprocess.run([sys.executable, "-u", "-c", source, os.path.join(home, "session"), "0"], input=request + "\n",
                              capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": home})
        events = [json.loads(line) for line in done.stdout.splitlines()]
        self.assertEqual(events[0]["t"], "ready", done.stderr)
        self.assertEqual(events[1], {"t": "out", "id": "1", "s": "stdout", "d": "hi\n"})
        self.assertEqual((events[2]["t"], events[2]["value"], events[2]["error"]), ("done", "42", None))


if __name__ == "__main__":
    unittest.main()
