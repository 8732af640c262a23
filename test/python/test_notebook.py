"""notebook.py: a cell's value, its errors and its figures, as the run_code tool returns them."""
import linecache, os, unittest
from unittest import mock

os.environ.setdefault("MPLBACKEND", "Agg")
import pandas  # the image has it: the table rendering is for its DataFrames

import notebook


class CellValue(unittest.TestCase):
    def test_last_expression_is_the_value_as_repr(self):
        self.assertEqual(notebook.run_cell("x = 6\nx * 7"), ("42", "repr"))
        self.assertEqual(notebook.run_cell("'a' + 'b'"), ("'ab'", "repr"))

    def test_statements_and_none_give_no_value(self):
        self.assertIsNone(notebook.run_cell("y = 1"))
        self.assertIsNone(notebook.run_cell("None"))
        self.assertIsNone(notebook.run_cell(""))

    def test_names_live_on_from_cell_to_cell(self):
        notebook.run_cell("kept = [1, 2]")
        self.assertEqual(notebook.run_cell("kept + [3]"), ("[1, 2, 3]", "repr"))

    def test_long_repr_is_cut_with_a_count(self):
        text, kind = notebook.display("x" * 30000)
        self.assertEqual(kind, "repr")
        self.assertEqual(text, "'" + "x" * (notebook.MAX_VALUE - 1) + "... [10002 characters cut]")

    def test_cell_sources_stay_in_linecache_for_the_last_thousand_cells_only(self):
        notebook.cells = 1000
        linecache.cache["<cell 1>"] = (1, None, ["old\n"], "<cell 1>")
        notebook.run_cell("1")
        self.assertIn("<cell 1001>", linecache.cache)
        self.assertNotIn("<cell 1>", linecache.cache)


class Tables(unittest.TestCase):
    def test_big_frame_shows_ten_rows_and_five_columns_at_each_end(self):
        frame = pandas.DataFrame([[r * 100 + c for c in range(12)] for r in range(30)], columns=["c%d" % c for c in range(12)])
        text, kind = notebook.display(frame)
        lines = text.split("\n")
        self.assertEqual(kind, "table")
        self.assertEqual(lines[0], "|  | c0 | c1 | c2 | c3 | c4 | \u2026 | c7 | c8 | c9 | c10 | c11 |")
        self.assertEqual(lines[1], "|" + "---|" * 12)
        self.assertEqual(lines[2], "| 0 | 0 | 1 | 2 | 3 | 4 | \u2026 | 7 | 8 | 9 | 10 | 11 |")
        self.assertEqual(lines[12], "| " + " | ".join(["\u2026"] * 12) + " |")
        self.assertEqual(lines[13], "| 20 | 2000 | 2001 | 2002 | 2003 | 2004 | \u2026 | 2007 | 2008 | 2009 | 2010 | 2011 |")
        self.assertEqual(lines[-2:], ["", "[30 rows x 12 columns]"])
        self.assertEqual(len(lines), 2 + 20 + 1 + 2)

    def test_cells_escape_pipes_and_newlines_and_are_cut_at_sixty(self):
        frame = pandas.DataFrame({"text": ["a|b\nc", "z" * 100]}).rename_axis("key")
        lines = notebook.display(frame)[0].split("\n")
        self.assertEqual(lines[0], "| key | text |")
        self.assertEqual(lines[2], "| 0 | a\\|b c |")
        self.assertEqual(lines[3], "| 1 | " + "z" * 59 + "\u2026 |")

    def test_series_is_shown_as_a_one_column_table(self):
        text, kind = notebook.display(pandas.Series([1, 2, 3], name="n"))
        self.assertEqual(kind, "table")
        self.assertTrue(text.startswith("|  | n |"), text)
        self.assertTrue(text.endswith("[3 rows x 1 columns]"), text)


class Errors(unittest.TestCase):
    def test_traceback_names_the_cell_and_its_line_without_the_drivers_frames(self):
        # in the sandbox the driver's own code is the `python -c` program, named "<string>"
        driver_frames = {}
        exec(compile("def call(f, code):\n    return f(code)\n", "<string>", "exec"), driver_frames)
        try:
            driver_frames["call"](notebook.run_cell, "def f():\n    return 1 / 0\nf()")
        except ZeroDivisionError as error:
            described = notebook.describe(error)
        self.assertEqual(described["type"], "ZeroDivisionError")
        self.assertEqual(described["message"], "division by zero")
        self.assertNotIn('"<string>"', described["traceback"])
        self.assertRegex(described["traceback"], r'File "<cell \d+>", line 2, in f\n    return 1 / 0\n')
        self.assertTrue(described["traceback"].endswith("ZeroDivisionError: division by zero\n"))

    def test_syntax_error_is_described_without_a_traceback_header_for_no_frames(self):
        error = SyntaxError("invalid syntax", ("<cell 9>", 1, 3, "1 +\n"))
        described = notebook.describe(error)
        self.assertEqual(described["type"], "SyntaxError")
        self.assertFalse(described["traceback"].startswith("Traceback"))
        self.assertIn("<cell 9>", described["traceback"])


class Figures(unittest.TestCase):
    def setUp(self):
        import matplotlib.pyplot
        self.pyplot = matplotlib.pyplot
        del notebook.figures[:]
        del notebook.figure_notes[:]

    def test_open_figures_come_back_as_png_and_are_closed(self):
        self.pyplot.plot([1, 2, 3])
        notebook.capture_figures()
        self.assertEqual(len(notebook.figures), 1)
        self.assertTrue(notebook.figures[0].startswith("iVBORw0KGgo"))  # base64 of the PNG signature
        self.assertEqual(self.pyplot.get_fignums(), [])

    def test_figures_past_the_limit_are_dropped_with_a_note(self):
        for _ in range(3):
            self.pyplot.figure()
        with mock.patch.object(notebook, "MAX_FIGURES", 2):
            notebook.capture_figures()
        self.assertEqual(len(notebook.figures), 2)
        self.assertEqual(notebook.figure_notes, ["more than 2 figures: the rest were not returned"])
        self.assertEqual(self.pyplot.get_fignums(), [])


if __name__ == "__main__":
    unittest.main()
