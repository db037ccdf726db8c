"""People's tables: rich on a terminal, or pasted as Markdown/LaTeX.

On a narrow terminal a table gives way without ever cutting a number (SPEC §8,
``fit_table``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .numtext import Num, numbers

Cells = Callable[[Num], list[list[str]]]  # a table's rows, with its numbers written by Num

# what a words cell keeps on one line: a sign with its number, "from" with its node
_UNIT = re.compile(r"(?:[=+-] |from )?\S+")  # "= -0.28", "- 0.17", "from #4", "(seed"
FLOOR = 6  # a label column is never squeezed narrower than this (it may wrap and end in …)
_WIDE = 1 << 20  # a width that measures text without rich capping it at the terminal's
# Rows past which the table is written here, line by line, in rich's layout: rich
# draws about 0.3 ms a row, so a 10^5-node graph's table would take half a minute.
LARGE = 1000


class Column:
    """A column of a people's table: its title, alignment, terminal style and kind.

    The kind says how the column gives way on a narrow terminal (SPEC §8):
    ``number`` cells (one number a line) are never wrapped or cut (a table too
    narrow shows them with fewer digits instead); ``words`` cells hold numbers in
    text (``= 0.12 from #3``) and wrap only between units (``= 0.12``, ``from #3``);
    ``text`` cells (labels) may wrap and be shortened with ``…``.
    A ``detail`` column is the first thing left out. The kind defaults to
    ``number`` for a right-aligned column and ``text`` otherwise.
    """

    def __init__(
        self, title: str, right: bool = False, style: str = "", kind: str = "",
        detail: bool = False,
    ) -> None:  # fmt: skip
        self.title, self.right, self.style, self.detail = title, right, style, detail
        self.kind = kind or ("number" if right else "text")


def show_table(columns: list[Column], cells: Cells, output) -> None:
    """The rows as a rich table on ``output``'s console, a GitHub Markdown table or a
    LaTeX ``tabular``. ``cells`` is asked for the rows again, with fewer digits, when
    a terminal table must shrink to fit."""
    fmt, out, digits = output.fmt, output.out, output.digits
    if fmt in ("markdown", "latex"):
        from .pasted import latex, markdown

        rows = cells(numbers(digits))
        out.write(markdown(columns, rows) if fmt == "markdown" else latex(columns, rows))
        out.flush()
        return
    console = output.console
    layout = _fit(columns, cells, digits, console)
    if len(layout.rows) > LARGE:
        _write_lines(layout, console)
        return
    # crop=False: a table too wide even at one digit is shown whole, and the terminal
    # folds its lines, rather than rich cutting numbers at the edge.
    console.print(layout.table(), crop=False)


class _Layout:
    """A table fitted to the terminal: its columns, rows (words cells broken to their
    widths), widths, whether the columns are close together, and the caption."""

    def __init__(self, cols, rows, widths, tight, caption, width) -> None:
        self.cols, self.rows, self.widths, self.tight = cols, rows, widths, tight
        self.caption = caption
        self.width = width  # the whole table's, or None: as wide as rich makes it

    def table(self):
        table = _rich_table(self.cols, self.rows, self.widths, self.caption, self.tight)
        if self.width is not None:
            table.width = self.width
        return table


def fit_table(columns: list[Column], cells: Cells, digits: int, console):
    """A rich table as wide as ``console.width`` at most, with no number cut (SPEC §8)."""
    return _fit(columns, cells, digits, console).table()


def _fit(columns: list[Column], cells: Cells, digits: int, console) -> _Layout:
    """The layout of a table as wide as ``console.width`` at most, no number cut.

    What gives way, in order: the ``detail`` columns (a caption says so); then
    ``text`` columns wrap and shorten, down to FLOOR, and ``words`` columns wrap
    between units; then the columns close up to one space apart; then every
    number loses significant digits, down to one (each keeps its full text when
    that is no longer). Should even that be too wide, the table comes out wider
    than the terminal, with all its digits, rather than cut.

    The widths are set here, not left to rich: rich squeezes every wrappable
    column alike when a table is too wide, and so cuts numbers in text columns.
    """
    wide = console.options.update_width(_WIDE)
    detail = [c for c in columns if c.detail]
    # (digits, the columns left out, squeeze the text, one space between columns)
    tries = [(digits, [], False, False)]
    if detail:
        tries.append((digits, detail, False, False))
    tries += [(digits, detail, True, False)]
    tries += [(d, detail, True, True) for d in range(digits, 0, -1)]
    tries += [(digits, detail, True, True)]  # too wide for one digit: then keep them all
    made: dict[int, list[list[str]]] = {}
    for n, (d, left_out, squeeze, tight) in enumerate(tries):
        if d not in made:
            made[d] = cells(numbers(digits, d))
        cols = [c for c in columns if c not in left_out]
        rows = [[v for v, c in zip(r, columns) if c not in left_out] for r in made[d]]
        natural, least = _widths(cols, rows, console, wide)
        widths = least if squeeze else natural
        edges = _edges(len(cols), tight, console, wide)
        spare = console.width - edges - sum(widths)
        if spare >= 0 or n == len(tries) - 1:
            break
    if squeeze:  # the columns with numbers get their whole lines back first, then labels
        spare = _widen(widths, natural, [i for i, c in enumerate(cols) if c.kind != "text"], spare)
        _widen(widths, natural, [i for i, c in enumerate(cols) if c.kind == "text"], spare)
    # words cells are broken here, between units, so rich never breaks inside one
    rows = [[_wrap(v, w) if c.kind == "words" else v for v, c, w in zip(r, cols, widths)]
            for r in rows]  # fmt: skip
    caption = None
    if left_out:
        caption = f"{', '.join(c.title for c in left_out)} left out to fit {console.width} columns"
    # nothing fits: wider than the terminal, and every number whole
    return _Layout(cols, rows, widths, tight, caption, sum(widths) + edges if spare < 0 else None)


def _widths(cols: list[Column], rows: list[list[str]], console, wide) -> tuple[list, list]:
    """Each column's natural width (its longest line) and the least it can take.

    A plain text's widest line is what rich measures it as; ``cell_len`` per line
    gives the same without rich's machinery (a third of a 10^5-row table's time).
    """
    from rich.cells import cell_len

    def widest(text: str) -> int:
        return max(map(cell_len, text.split("\n"))) if "\n" in text else cell_len(text)

    natural, least = [], []
    for i, col in enumerate(cols):
        head = widest(col.title)
        longest = max((widest(r[i]) for r in rows), default=0)
        natural.append(max(head, longest))
        if col.kind == "number":  # every line whole
            least.append(max(longest, min(head, FLOOR)))
        elif col.kind == "words":  # every unit whole
            units = [u for r in rows for u in _UNIT.findall(r[i])]
            least.append(max(max(map(cell_len, units), default=0), min(head, FLOOR)))
        else:
            least.append(min(natural[-1], FLOOR))
    return natural, least


def _wrap(text: str, width: int) -> str:
    """A words cell with each line broken, between units, to ``width`` cells."""
    from rich.cells import cell_len

    lines = []
    for line in text.split("\n"):
        current = ""
        for unit in _UNIT.findall(line):
            if current and cell_len(current) + 1 + cell_len(unit) > width:
                lines.append(current)
                current = unit
            else:
                current = f"{current} {unit}" if current else unit
        lines.append(current)
    return "\n".join(lines)


def _edges(n_columns: int, tight: bool, console, wide) -> int:
    """What a table of ``n_columns`` adds to its columns' text: borders and padding."""
    from rich.measure import Measurement

    probe = _rich_table([Column("")] * n_columns, [], [1] * n_columns, None, tight)
    return Measurement.get(console, wide, probe).maximum - n_columns


def _widen(widths: list[int], natural: list[int], among: list[int], spare: int) -> int:
    """Share ``spare`` cells among the columns ``among``, a cell at a time to the
    narrowest that is short of its natural width, so they grow evenly; returns the rest."""
    while spare > 0:
        short = [i for i in among if widths[i] < natural[i]]
        if not short:
            break
        widths[min(short, key=lambda i: widths[i])] += 1
        spare -= 1
    return spare


def _rich_table(cols: list[Column], rows: list[list[str]], widths: list[int], caption, tight):
    from rich.table import Table
    from rich.text import Text

    # tight: the box's one space between columns, no padding (three spaces otherwise)
    table = Table(box=_box(), caption=caption, padding=0 if tight else (0, 1))
    for c, width in zip(cols, widths):
        table.add_column(
            Text(c.title), justify="right" if c.right else "left", style=c.style, width=width,
            no_wrap=c.kind == "number",
        )  # fmt: skip
    for r in rows:  # Text: user text like [x] is not read as markup, whatever the console
        table.add_row(*(Text(v) for v in r))
    return table


def _box():
    from rich import box

    return box.SIMPLE_HEAD


def _write_lines(layout: _Layout, console) -> None:
    """A large table in the layout rich gives it (the SIMPLE_HEAD box, the same
    widths and padding), written line by line; a label too long for its column is
    cut with ``…`` rather than wrapped. Styles only where the console has colour."""
    from rich.cells import cell_len, set_cell_size

    pad = "" if layout.tight else " "
    paint = _painter(console)

    def cell(text: str, col: Column, width: int, style: str) -> str:
        if cell_len(text) > width:
            text = set_cell_size(text, width - 1) + "…"
        gap = " " * (width - cell_len(text))
        return pad + paint(text, style) + gap + pad if not col.right else pad + gap + paint(
            text, style) + pad  # fmt: skip

    def line(texts: list[str], header: bool) -> str:
        parts = [cell(t, c, w, "bold" if header else c.style)
                 for t, c, w in zip(texts, layout.cols, layout.widths)]  # fmt: skip
        return " " + " ".join(parts) + " "

    total = sum(layout.widths) + len(layout.cols) * 2 * len(pad) + len(layout.cols) + 1
    out = [" " * total, line([c.title for c in layout.cols], True), " " + "─" * (total - 2) + " "]
    write = console.file.write
    write("\n".join(out) + "\n")
    for row in layout.rows:
        split = [v.split("\n") for v in row]
        height = max(map(len, split))
        out = [line([s[k] if k < len(s) else "" for s in split], False) for k in range(height)]
        write("\n".join(out) + "\n")
    write(" " * total + "\n")
    if layout.caption:
        write(paint(layout.caption.center(total), "dim italic") + "\n")
    console.file.flush()


def _painter(console):
    """``paint(text, style)``: the text in the style's escape codes, or as it is
    when the console has no colour."""
    if not console.color_system:
        return lambda text, style: text
    from rich.color import ColorSystem
    from rich.style import Style

    system = ColorSystem[console.color_system.upper()]
    cache: dict[str, tuple[str, str]] = {}

    def paint(text: str, style: str) -> str:
        if not style or not text:
            return text
        if style not in cache:
            cache[style] = tuple(Style.parse(style).render("\0", color_system=system).split("\0"))
        before, after = cache[style]
        return before + text + after

    return paint
