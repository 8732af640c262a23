"""A cell run the way a notebook runs it: the value of a last expression is shown (DataFrames as
tables, the rest as repr), figures left open come back as PNG, errors as the user's traceback.

No I/O of its own: the driver (driver.py) calls it. In the sandbox both go as one `python -c`
program, this file first (see pythonPrograms.ts); the unit tests import it as a module.
"""
import ast, linecache, sys, traceback

MAX_FIGURES = 20
MAX_FIGURE_BYTES = 4 * 1024 * 1024
MAX_ROWS, MAX_COLUMNS, MAX_CELL, MAX_VALUE = 20, 10, 60, 20000

# the user's globals, kept from cell to cell
namespace = {"__name__": "__main__", "__builtins__": __builtins__}
# what the current run produced besides output; the driver empties them before each run
figures, figure_notes = [], []
cells = 0

def capture_figures():
    """Every open figure, in order, as PNG; then they are closed (like a notebook's inline display)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    import base64, io
    for number in pyplot.get_fignums():
        figure = pyplot.figure(number)
        if len(figures) >= MAX_FIGURES:
            figure_notes.append("more than %d figures: the rest were not returned" % MAX_FIGURES)
            break
        buffer = io.BytesIO()
        try:
            figure.savefig(buffer, format="png", bbox_inches="tight")
        except Exception as error:
            figure_notes.append("figure %d could not be rendered: %s" % (number, error))
            continue
        data = buffer.getvalue()
        if len(data) > MAX_FIGURE_BYTES:
            figure_notes.append("figure %d is %d bytes as PNG, more than %d: not returned (save it and use cp_out)" % (number, len(data), MAX_FIGURE_BYTES))
            continue
        figures.append(base64.b64encode(data).decode("ascii"))
    pyplot.close("all")

def markdown_table(frame):
    """A DataFrame as a compact markdown table: at most 20 rows and 10 columns, the middle elided."""
    rows, columns = frame.shape
    if rows > MAX_ROWS:
        frame = frame.iloc[list(range(MAX_ROWS // 2)) + list(range(rows - MAX_ROWS // 2, rows))]
    if columns > MAX_COLUMNS:
        frame = frame.iloc[:, list(range(MAX_COLUMNS // 2)) + list(range(columns - MAX_COLUMNS // 2, columns))]
    def cell(value):
        text = str(value).replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "\u2026"
    names = [cell(c) for c in frame.columns]
    index_name = cell(frame.index.name) if frame.index.name is not None else ""
    if columns > MAX_COLUMNS:
        names.insert(MAX_COLUMNS // 2, "\u2026")
    lines = ["| " + " | ".join([index_name] + names) + " |", "|" + "---|" * (len(names) + 1)]
    for position, (label, row) in enumerate(frame.iterrows()):
        if rows > MAX_ROWS and position == MAX_ROWS // 2:
            lines.append("| " + " | ".join(["\u2026"] * (len(names) + 1)) + " |")
        values = [cell(v) for v in row.tolist()]
        if columns > MAX_COLUMNS:
            values.insert(MAX_COLUMNS // 2, "\u2026")
        lines.append("| " + " | ".join([cell(label)] + values) + " |")
    lines.append("")
    lines.append("[%d rows x %d columns]" % (rows, columns))
    return "\n".join(lines)

def display(value):
    """How a notebook shows a cell's value: DataFrames (and Series) as tables, the rest as repr."""
    kind = type(value)
    if kind.__module__.startswith("pandas"):
        try:
            if hasattr(value, "to_frame") and not hasattr(value, "columns"):
                value = value.to_frame()
            if hasattr(value, "iterrows"):
                return markdown_table(value), "table"
        except Exception:
            pass
    text = repr(value)
    if len(text) > MAX_VALUE:
        text = text[:MAX_VALUE] + "... [%d characters cut]" % (len(text) - MAX_VALUE)
    return text, "repr"

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
            return display(value)
    return None

def describe(error):
    # drop the driver's own frames (-c code is "<string>") and runpy's: show the user's code only
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f.filename != "<string>" and not f.filename.endswith("runpy.py")]
    lines = (["Traceback (most recent call last):\n"] + traceback.format_list(frames)) if frames else []
    lines += traceback.format_exception_only(type(error), error)
    return {"type": type(error).__name__, "message": str(error), "traceback": "".join(lines)}
