"""extract_tar.py, pack_tar.py and list_packages.py: cp_in, cp_out and list_packages inside the sandbox."""
import io, json, os, shutil, subprocess, sys, tarfile, tempfile, unittest

import extract_tar
import list_packages
import pack_tar


def read(path):
    with open(path, "rb") as file:
        return file.read()


def scratch(test):
    """A temporary directory that goes when the test ends."""
    path = tempfile.mkdtemp()
    test.addCleanup(shutil.rmtree, path, ignore_errors=True)
    return path


def archive(*members):
    """A tar stream of (name, bytes) files, (name, None) directories and (name, "->target") links."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content[2:]
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), 0o640
                tar.addfile(info, io.BytesIO(content))
    buffer.seek(0)
    return buffer


class Extract(unittest.TestCase):
    def setUp(self):
        self.root = scratch(self)
        self.target = os.path.join(self.root, "target")
        os.mkdir(self.target)

    def test_writes_files_and_directories_under_the_target_with_their_mode(self):
        answer = extract_tar.extract(archive(("d", None), ("d/a.txt", b"abc"), ("b.txt", b"12345")), self.target, False, "")
        a = os.path.join(self.target, "d", "a.txt")
        self.assertEqual(answer, {"written": [a, os.path.join(self.target, "b.txt")], "bytes": 8})
        self.assertEqual(read(a), b"abc")
        self.assertEqual(os.stat(a).st_mode & 0o777, 0o640)

    def test_refuses_members_that_escape_the_target(self):
        for name in ("../evil", "/tmp/evil-absolute", "d/../../evil", ".."):
            with self.subTest(name=name):
                with self.assertRaises(SystemExit) as refused:
                    extract_tar.extract(archive((name, b"x")), self.target, False, "")
                self.assertEqual(refused.exception.code, "refusing archive member " + name)
        self.assertEqual(os.listdir(self.root), ["target"])
        self.assertFalse(os.path.exists("/tmp/evil-absolute"))

    def test_links_and_other_special_members_are_skipped(self):
        answer = extract_tar.extract(archive(("link", "->/etc/passwd"), ("f", b"1")), self.target, False, "")
        self.assertEqual(answer["written"], [os.path.join(self.target, "f")])
        self.assertFalse(os.path.lexists(os.path.join(self.target, "link")))

    def test_a_single_file_goes_inside_a_directory_target_under_its_base_name(self):
        answer = extract_tar.extract(archive(("whatever", b"data")), self.target, True, "data.csv")
        self.assertEqual(answer["written"], [os.path.join(self.target, "data.csv")])

    def test_a_single_file_goes_at_a_new_target_path(self):
        path = os.path.join(self.target, "sub", "new.txt")
        answer = extract_tar.extract(archive(("whatever", b"data")), path, True, "ignored")
        self.assertEqual((answer["written"], read(path)), ([path], b"data"))

    def test_a_file_over_a_directory_is_refused(self):
        os.mkdir(os.path.join(self.target, "a"))
        with self.assertRaises(SystemExit) as refused:
            extract_tar.extract(archive(("a", b"x")), self.target, False, "")
        self.assertEqual(refused.exception.code, os.path.join(self.target, "a") + " is a directory")

    def test_as_a_program_reads_stdin_and_prints_json(self):
        done = subprocess.run([sys.executable, extract_tar.__file__, self.target, "0", ""], input=archive(("x.txt", b"hi")).read(),
                              capture_output=True, timeout=60)
        self.assertEqual(json.loads(done.stdout), {"written": [os.path.join(self.target, "x.txt")], "bytes": 2})


class Pack(unittest.TestCase):
    def setUp(self):
        self.tree = os.path.join(scratch(self), "tree")
        os.makedirs(os.path.join(self.tree, "sub"))
        with open(os.path.join(self.tree, "sub", "f.txt"), "wb") as out:
            out.write(b"content")
        os.symlink("/etc/passwd", os.path.join(self.tree, "link"))

    def test_stores_links_as_links_without_reading_what_they_point_at(self):
        buffer = io.BytesIO()
        pack_tar.pack(self.tree, buffer)
        buffer.seek(0)
        members = {m.name: m for m in tarfile.open(fileobj=buffer)}
        self.assertEqual(sorted(members), ["tree", "tree/link", "tree/sub", "tree/sub/f.txt"])
        self.assertTrue(members["tree/link"].issym())
        self.assertEqual((members["tree/link"].linkname, members["tree/link"].size), ("/etc/passwd", 0))

    def test_what_it_packs_extracts_to_the_same_files(self):
        buffer = io.BytesIO()
        pack_tar.pack(self.tree, buffer)
        buffer.seek(0)
        target = scratch(self)
        extract_tar.extract(buffer, target, False, "")
        self.assertEqual(read(os.path.join(target, "tree", "sub", "f.txt")), b"content")

    def test_as_a_program_a_missing_path_exits_2_with_a_message(self):
        done = subprocess.run([sys.executable, pack_tar.__file__, "/no/such/path"], capture_output=True, text=True, timeout=60)
        self.assertEqual((done.returncode, done.stderr, done.stdout), (2, "no such file or directory: /no/such/path\n", ""))


class Packages(unittest.TestCase):
    def test_lists_each_distribution_once_sorted_by_name(self):
        packages = list_packages.installed()
        names = [p["name"].lower() for p in packages]
        self.assertEqual(names, sorted(set(names)))
        self.assertIn("numpy", names)
        self.assertTrue(all(p["version"] for p in packages))

    def test_as_a_program_prints_the_list_as_json(self):
        done = subprocess.run([sys.executable, list_packages.__file__], capture_output=True, text=True, timeout=60)
        self.assertEqual(json.loads(done.stdout), list_packages.installed())


if __name__ == "__main__":
    unittest.main()
