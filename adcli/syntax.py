"""Text → graph, with the one Lark grammar.

The builder is the LALR parser's transformer, so every rule becomes a call to a
graph constructor the moment it is reduced: no parse tree is built and nothing
recurses, whatever the nesting depth. Parse errors become ``ParseError`` with the
line, the column and what was expected there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

from .errors import ParseError, ShapeError, skeleton, spelled
from .graph import Graph
from .ops import COMPARISONS, CONSTANTS, FUNCTIONS, OPS, OTHER_NAMES
from .params import Init

_GRAMMAR_PATHS = (
    Path(__file__).resolve().parent.parent / "grammar" / "adcli.lark",  # source tree
    Path(__file__).resolve().parent / "grammar" / "adcli.lark",  # installed wheel
)


class Program:
    """What a text defines: the graph, its outputs and its free variables, and the
    warnings about it (an assignment nothing reads)."""

    def __init__(
        self,
        text: str,
        graph: Graph,
        outputs: list[int],
        warnings: list[str] | None = None,
        params: dict[str, Init] | None = None,
    ) -> None:
        self.text = text
        self.graph = graph
        self.outputs = outputs
        self.warnings = warnings or []
        self.params = params or {}  # declared with param, in order

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(self.graph.variables)


_parser = None


def _make_parser(fast: bool = True):
    """The parser and the builder it calls; ``fast=False`` takes Lark's own loop.

    The machine's tables (``lalr.snapshot``) are kept in the user's cache directory
    by the grammar's checksum: a start that finds them builds the machine without
    Lark, which then is not even imported. Without them, Lark builds the tables (its
    own cache spares it the LALR analysis) and the snapshot is written for next time.
    """
    from . import lalr

    grammar = next(p for p in _GRAMMAR_PATHS if p.exists()).read_text(encoding="utf-8")
    builder = _Builder()
    folder = _cache_folder()
    tables_file = _tables_file(folder, grammar) if folder else None
    if fast and tables_file:
        tables = _read_tables(tables_file)
        if tables is not None:
            try:
                return lalr.Machine(None, builder, tables), builder
            except Exception:  # a snapshot the machine cannot read: Lark, and a new one
                pass
    from lark import Lark

    # The builder is the transformer: Lark binds each rule's callback to the builder
    # method of the same name (or alias) once, here. The LALR tables are cached in
    # the user's own cache directory (Lark's default, the shared temp directory,
    # would load a pickle any local user could plant); Lark checks the grammar's
    # hash on load, so an old cache is rebuilt. The basic lexer and the post-lexer
    # serve Lark's own loop, which lexes as the machine does.
    options = {"parser": "lalr", "lexer": "basic", "postlex": lalr.BracketBlanks(),
               "cache": _lark_cache_file(folder, grammar) if folder else False}  # fmt: skip
    lark = Lark(grammar, transformer=builder, **options)

    def remake(transformer):
        return Lark(grammar, transformer=transformer, **options)

    loop = lalr.driver(lark, remake, fast)
    if isinstance(loop, lalr.Machine) and tables_file:
        _write_tables(tables_file, loop.tables)
    return loop, builder


def _cache_folder() -> str | None:
    """adcli's folder in the user's cache directory, made if need be; None where it
    cannot be written (then nothing is cached: a slower start, the same answers)."""
    import os

    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(root, "adcli")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def _checksum(grammar: str) -> str:
    import zlib

    return f"{zlib.crc32(grammar.encode('utf-8')):08x}"


def _lark_cache_file(folder: str, grammar: str) -> str:
    """Lark's cache of its tables, named by Lark's version and the grammar's checksum:
    two installs with different grammars (an upgrade, a second virtualenv) each keep
    theirs, rather than rebuilding the other's on every start."""
    import os

    from lark import __version__

    return os.path.join(folder, f"grammar-lark-{__version__}-{_checksum(grammar)}.cache")


def _tables_file(folder: str, grammar: str) -> str:
    """The machine's snapshot, by the snapshot's format and a checksum of the grammar
    and of the builder's method names (Lark binds a rule to the method of its name:
    a method added or renamed changes the callbacks, the grammar unchanged)."""
    import os

    from .lalr import TABLES_FORMAT

    methods = " ".join(sorted(n for n in dir(_Builder) if not n.startswith("__")))
    key = _checksum(grammar + "\n" + methods)
    return os.path.join(folder, f"grammar-tables-{TABLES_FORMAT}-{key}.marshal")


def _read_tables(path: str) -> dict | None:
    """The snapshot in ``path`` (``marshal``: data only, nothing runs as it loads), or
    None if there is none or it is not one."""
    import marshal

    try:
        with open(path, "rb") as f:
            tables = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return tables if isinstance(tables, dict) else None


def _write_tables(path: str, tables: dict) -> None:
    """Write the snapshot whole or not at all (a second adcli may be reading it)."""
    import marshal
    import os

    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as f:
            marshal.dump(tables, f)
        os.replace(temporary, path)
    except (OSError, ValueError):  # a full disk, a read-only folder: no cache then
        try:
            os.remove(temporary)
        except OSError:
            pass


MAX_WARNINGS = 5  # unused assignments named one by one; the rest are counted


class _Builder:
    """Builds the graph while the parser reduces rules; ``reset`` before each parse.

    Statements are kept as two flat lists (a 10^5-statement program must not pay
    for an object per statement): each one's name (None: unnamed) and the
    separator token after it, from which its place in the text follows.
    """

    def reset(self, text: str, shapes: Mapping[str, tuple] | None = None) -> None:
        self.text = text
        self.graph = Graph(shapes)  # the free variables that are arrays (data columns)
        self.assigned: dict[str, int] = {}
        self.free: set[str] = set()
        self.read: set[str] = set()  # assigned names read by a later statement
        self.names: list[str | None] = []  # each statement's name; None: unnamed
        self.separators: list = []  # the separator token after each statement but the last
        self.last_outputs: list[int] = []
        self.warnings: list[str] = []
        self.params: dict[str, Init] = {}  # declared params, in order

    def _error(self, message: str, token, hint: str | None = None) -> ParseError:
        return ParseError(message, self.text, *_position(self.text, token.pos), hint)

    def _error_at(self, message: str, pos: int, hint: str | None = None) -> ParseError:
        return ParseError(message, self.text, *_position(self.text, pos), hint)

    # statements
    def start(self, children):
        self._check_unused()
        self._check_look_alikes()
        return self.last_outputs

    def program(self, children):
        """A statement has been read; refuse the one before it if its value would be
        lost (SPEC §8: ``x*2; x*3`` must not print 15)."""
        if len(children) == 3:
            self.separators.append(children[1])
            if self.names[-1] is None:
                raise self._lost(len(self.names) - 1)
        self.names.append(children[-1])

    def _start(self, k: int) -> int:
        if k == 0:
            return _content_start(self.text)
        separator = self.separators[k - 1]
        return separator.pos + len(separator)

    def _end(self, k: int) -> int:
        return self.separators[k].pos if k < len(self.separators) else len(self.text)

    def _lost(self, k: int) -> ParseError:
        what = self._snippet(k)
        line = self._continued(k)
        if line:
            hint = f"did line {line} mean to continue it? wrap the formula in (...)"
        else:
            then = self._snippet(k + 1, until_separator=True)
            hint = (
                f"only the last statement is the result: name it (a = {what}), "
                f"or list several outputs with commas: {what}, {then}"
            )
        message = f"{what} is not the last statement and has no name: its value would be lost"
        return self._error_at(message, self._start(k), hint)

    def _continued(self, k: int) -> int:
        """The line number of a ``+``/``-`` line that follows statement ``k`` on a new
        line (a formula broken where it was meant to go on), else 0."""
        if k >= len(self.separators) or "\n" not in self.separators[k]:
            return 0
        following = self._start(k + 1)
        if self.text[following] not in "+-":
            return 0
        return _position(self.text, following)[0]

    def _check_unused(self) -> None:
        """An assignment that nothing reads is a warning, or an error when the next
        line starts with ``+``/``-``: ``a = w*x`` then ``+ b`` must not drop ``w*x``."""
        needed = None
        unused = []
        read, names = self.read, self.names
        for k in range(len(names) - 1):
            name = names[k]
            if name is None or name in read or name in self.params:
                continue
            if needed is None:
                needed = self.graph.ancestors(self.last_outputs)
            if needed[self.assigned[name]]:
                continue  # an equal statement is read under another name
            line = self._continued(k)
            if line:
                message = f"{self._snippet(k)} is never used; did line {line} mean to continue it?"
                raise self._error_at(message, self._start(k), "wrap the formula in (...)")
            unused.append(k)
        for k in unused[:MAX_WARNINGS]:
            line = _position(self.text, self._start(k))[0]
            self.warnings.append(
                f"line {line}: {self._snippet(k)} is never used (only the last statement is "
                "the result)"
            )
        if len(unused) > MAX_WARNINGS:
            self.warnings.append(f"... and {len(unused) - MAX_WARNINGS} more assignments that "
                                 "nothing reads")  # fmt: skip

    def _check_look_alikes(self) -> None:
        """Two names drawn alike (a Latin x and a Cyrillic х) are two variables: warn."""
        names = [*self.graph.variables, *self.assigned]
        if all(name.isascii() for name in names):
            return  # only letters of other scripts are drawn like Latin ones
        seen: dict[str, str] = {}
        for name in names:
            key = skeleton(name)
            other = seen.setdefault(key, name)
            if other != name:
                self.warnings.append(f"{spelled(other)} and {spelled(name)} look alike but "
                                     "are different names")  # fmt: skip

    def _snippet(self, k: int, until_separator: bool = False, width: int = 40) -> str:
        """Statement ``k``'s text on one line, comments dropped, shortened to ``width``."""
        text = self.text[self._start(k) : self._end(k)]
        if until_separator:
            text = re.split(r"[;\n]", text, maxsplit=1)[0]
        text = " ".join(line.split("#", 1)[0] for line in text.split("\n"))
        text = " ".join(text.split())
        return text if len(text) <= width else text[: width - 1] + "…"

    def assign(self, children):
        token, node = children
        name = str(token)
        if name in CONSTANTS:
            raise self._error(f"cannot assign to the constant {name}", token)
        if name in FUNCTIONS:
            raise self._error(f"cannot assign to {name}: it is a function", token)
        if name in self.assigned:
            raise self._error(
                f"{name} is assigned twice", token, "give each statement its own name"
            )
        if self.graph.inputs and name in self.graph.inputs:
            raise self._error(f"{name} is given as an array (a data column or a value)", token,
                              "give the statement another name")  # fmt: skip
        if name in self.free:
            raise self._error(
                f"{name} is assigned after it was used as a free variable",
                token,
                "assign it before its first use, or use another name",
            )
        self.assigned[name] = node
        if self.graph.op[node] not in ("const", "var"):
            self.graph.name(node, name)
        self.last_outputs = [node]
        return name

    def param(self, children):
        """``param w = 1.0``: a parameter that starts at a number."""
        _, token, node = children
        value = self.graph.value[node]
        if value is None or self.graph.shape[node] != ():
            raise self._error(f"param {token} = ... takes an initialiser or a number", token,
                              "write param W = glorot(64, 32), zeros(32) or a number")  # fmt: skip
        return self._declare(token, Init("full", [value]))

    def param_init(self, children):
        """``param W = glorot(64, 32)``: a parameter with its shape and start values."""
        _, token, kind, *args = children
        values = []
        for node in (a for a in args if a is not None):
            value = self.graph.value[node]
            if value is None:
                raise self._error(f"the arguments of {kind}(...) must be numbers", kind)
            values.append(value)
        try:
            init = Init(str(kind), values)
        except ShapeError as error:
            raise self._error(error.message, kind, error.hint) from None
        return self._declare(token, init)

    def _declare(self, token, init: Init) -> str:
        name = str(token)
        if name in self.params:
            raise self._error(f"param {name} is declared twice", token)
        if name in self.free:
            raise self._error(f"param {name} is declared after its first use", token,
                              "declare params before the statements that use them")  # fmt: skip
        if name in self.assigned or name in CONSTANTS or name in FUNCTIONS:
            raise self._error(f"{name} is already a name: a param needs a new one", token)
        self.params[name] = init
        node = self.graph.var(name, init.shape)
        self.last_outputs = [node]
        return name

    def outputs(self, nodes):
        self.last_outputs = list(nodes)
        return None

    # operators
    def add(self, c):
        return self.graph.add(c[0], c[1])

    def sub(self, c):
        return self.graph.sub(c[0], c[1])

    def mul(self, c):
        return self.graph.mul(c[0], c[1])

    def div(self, c):
        return self.graph.div(c[0], c[1])

    def matmul(self, c):
        return self.graph.matmul(c[0], c[1])

    def neg(self, c):
        return self.graph.neg(c[0])

    def pos(self, c):
        return c[0]

    def pow(self, c):
        return self.graph.pow(c[0], c[2])

    def compare(self, c):
        a, token, b = c
        return self.graph.call(COMPARISONS[str(token)], a, b)

    def index(self, c):
        """``a[0]``, ``A[:, 1]``: subscripts are integer constants and slices of them."""
        node, *subscripts = c
        g = self.graph
        attrs = []
        for s in subscripts:
            if isinstance(s, tuple):  # a slice: its parts, each a node or None
                attrs.append(tuple(None if p is None else self._whole(p) for p in s))
            else:
                attrs.append(self._whole(s))
        return g.call_with("index", tuple(attrs), node)

    def _whole(self, node: int) -> int:
        value = self.graph.value[node]
        if value is None or not math.isfinite(value) or value != int(value):
            raise ShapeError("a subscript must be an integer constant",
                             hint="write a[0], A[:, 1] or a[1:3]")  # fmt: skip
        return int(value)

    def slice(self, c):
        return tuple(c) + (None,) * (3 - len(c))

    # atoms
    def number(self, c):
        return self.graph.const(float(c[0]))

    def name(self, c):
        token = c[0]
        name = str(token)
        if name in self.assigned:
            self.read.add(name)
            return self.assigned[name]
        if name in CONSTANTS:
            if name not in self.graph.inputs:
                return self.graph.const(CONSTANTS[name])
            if name not in self.free:  # a data column of that name: it wins, and is named
                self.warnings.append(f"{name} is a column of the data here, not the "
                                     f"constant {name} = {CONSTANTS[name]}")  # fmt: skip
        if name in FUNCTIONS:
            raise self._error(
                f"{name} is a function", token, f"call it with its argument: {name}(x)"
            )
        self.free.add(name)
        return self.graph.var(name)

    def call(self, c):
        token, args = c[0], [a for a in c[1:] if a is not None]
        name = str(token)
        arities = FUNCTIONS.get(name)
        if arities is None:
            raise self._unknown_function(token)
        if len(args) not in arities:
            wanted = " or ".join(str(n) for n in arities)
            plural = "s" if arities[-1] != 1 else ""
            raise self._error(f"{name} takes {wanted} argument{plural}, got {len(args)}", token)
        g = self.graph
        sugar = OPS[name].sugar.get(len(args))  # log(x, b): another arity, as a builder
        try:
            return sugar(g, *args) if sugar else g.apply(name, *args)
        except ShapeError as error:  # under the function's name
            raise self._error(error.message, token, error.hint) from None

    def _unknown_function(self, token) -> ParseError:
        import difflib

        name = str(token)
        lower = name.lower()
        known = OTHER_NAMES.get(name) or OTHER_NAMES.get(lower)
        if known is None and lower in FUNCTIONS:
            known = lower
        if known is not None:
            return self._error(f"unknown function {name}", token, f"did you mean {known}?")
        if lower in _FORMULAS:
            return self._error(f"unknown function {name}", token, f"write {_FORMULAS[lower]}")
        close = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.6)
        if close:
            return self._error(f"unknown function {name}", token, f"did you mean {close[0]}?")
        return self._error(
            f"{name} is not a function, and implicit multiplication is not supported",
            token,
            f"write {name}*(...) to multiply",
        )


# Functions adcli lacks, as the formulas to write instead (the names other tools give
# adcli's own functions, ln or tg, are in their rows of the op table).
_FORMULAS = {
    "ctg": "1/tan(x)", "cot": "1/tan(x)", "sec": "1/cos(x)", "csc": "1/sin(x)",
    "sqr": "x**2", "exp2": "2**x",
}  # fmt: skip

_TERMINAL_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'",
    "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "POW": "'**'", "AT": "'@'",
    "COMPARE": "a comparison", "LSQB": "'['", "RSQB": "']'", "COLON": "':'",
    "PARAM": "param", "INIT": "an initialiser",
    "COMMA": "','", "EQUAL": "'='", "SEP": "';' or a new line",
    "$END": "the end of the input",
}  # fmt: skip

# Characters that look like operators (copied from a document or typed on a phone)
# and what to write instead (SPEC §8).
_LOOKALIKES = {
    "×": "*", "·": "*", "⋅": "*", "∙": "*", "∗": "*", "•": "*", "÷": "/", "∕": "/",
    "−": "-", "–": "-", "—": "-", "‐": "-", "‑": "-", "＋": "+", "－": "-", "＊": "*",
    "／": "/", "（": "(", "）": ")", "，": ",", "；": ";", "＝": "=", "＾": "^",
}  # fmt: skip
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾", "0123456789-+()"))
_INVISIBLE = {
    "\u00a0": "a non-breaking space", "\u2009": "a thin space", "\u202f": "a narrow space",
    "\u200b": "an invisible zero-width space", "\u2060": "an invisible word joiner",
    "\ufeff": "an invisible byte-order mark", "\u3000": "a full-width space",
}  # fmt: skip


def _unexpected_character(text: str, pos: int, expected) -> tuple[str, str | None]:
    """The message and the fix for a character no token starts with."""
    char = text[pos]
    if char in _SUPERSCRIPTS:
        run = re.match(f"[{''.join(_SUPERSCRIPTS)}]+", text[pos:]).group()
        power = "".join(_SUPERSCRIPTS[c] for c in run)
        before = re.search(_ENDS_OPERAND, text[max(0, pos - 200) : pos])
        base = before.group(1) if before and before.group(1) != ")" else "(...)"
        power = power if re.fullmatch(r"\d+", power) else f"({power.strip('()')})"
        message = f"unexpected superscript {run!r}: a power is written with **"
        return message, f"write {base}**{power}"
    if char in _LOOKALIKES:
        return f"unexpected character {char!r}", f"write {_LOOKALIKES[char]}"
    if char in _INVISIBLE:
        return f"unexpected {_INVISIBLE[char]} ({char!r})", "replace it with a plain space"
    if char == "√":
        return "unexpected character '√'", "write sqrt(x)"
    return f"unexpected character {char!r}", _expected(expected) if expected else None


_ENDS_OPERAND = r"([\w.]+|\))\s*$"
_BLANK = re.compile(r"(?:[\s;]|#[^\n]*)*")


def _content_start(text: str) -> int:
    """Where the first statement starts: after blanks, separators and comments."""
    return _BLANK.match(text).end()


def _describe(token_type: str) -> str:
    return _TERMINAL_WORDS.get(token_type, token_type.lower())


def _expected(names) -> str:
    words = sorted({_describe(n) for n in names if not n.startswith("__")})
    return "expected " + (
        ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
    )


def _position(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _parse_error(text: str, failure) -> ParseError:
    token, expected = failure.token, failure.expected
    line, column = _position(text, failure.pos)
    if token is None:
        message, hint = _unexpected_character(text, failure.pos, expected)
        return ParseError(message, text, line, column, hint)
    if token.type == "$END":
        if all(not ln.split("#", 1)[0].strip(" \t\r;") for ln in text.split("\n")):
            return ParseError("the expression is empty", text, 1, 1,
                              "give an expression such as x**2")  # fmt: skip
        line, column = _position(text, len(text.rstrip()))
        return ParseError("unexpected end of the input", text, line, column, _expected(expected))
    before = re.search(_ENDS_OPERAND, text[max(0, token.pos - 200) : token.pos])
    if before and token.type in ("NAME", "NUMBER", "LPAR"):
        left = before.group(1) if before.group(1) != ")" else "(...)"
        right = str(token) if token.type != "LPAR" else "(...)"
        if left in FUNCTIONS and token.type != "LPAR":
            return ParseError(f"{left} is a function: its argument goes in parentheses", text,
                              line, column, f"write {left}({right})")  # fmt: skip
        return ParseError("implicit multiplication is not supported", text, line, column,
                          f"write {left}*{right}")  # fmt: skip
    if token.type == "INIT":
        return ParseError(f"{token}(...) gives a param its start value and is used only in "
                          "a declaration", text, line, column,
                          f"write param W = {token}(...)")  # fmt: skip
    if token.type == "SEP":
        what = "';'" if ";" in token else "end of the line"
    else:
        what = (
            f"{str(token)!r}"
            if token.type in _TERMINAL_WORDS
            else f"{_describe(token.type)} {str(token)!r}"
        )
    return ParseError(f"unexpected {what}", text, line, column, _expected(expected))


def parse(text: str, shapes: Mapping[str, tuple] | None = None) -> Program:
    """Parse a text into a program: its graph, outputs and free variables; ``shapes``
    gives the free variables that are arrays (the rest are numbers)."""
    global _parser
    from .lalr import Machine

    if _parser is None:
        _parser = _make_parser()
    try:
        return _run(_parser, text, shapes)
    except (LookupError, TypeError, AttributeError):
        if not isinstance(_parser[0], Machine):
            raise
    # The machine failed as a misread of this Lark's tables or callbacks would: where
    # Lark's own loop parses the text, it takes over (a fault of the builder's own
    # is raised again by Lark's loop, and the machine stays).
    fallback = _make_parser(fast=False)
    program = _run(fallback, text, shapes)
    _parser = fallback
    return program


def _run(parser, text: str, shapes: Mapping[str, tuple] | None = None) -> Program:
    from .lalr import ShapeFailure, SyntaxFailure

    loop, builder = parser
    builder.reset(text, shapes)
    try:
        outputs = loop.run(text)
    except SyntaxFailure as failure:
        raise _parse_error(text, failure) from None
    except ShapeFailure as failure:  # shapes that do not fit: the caret under the operator
        line, column = _position(text, failure.pos)
        raise ParseError(failure.error.message, text, line, column, failure.error.hint) from None
    finally:
        graph, builder.graph = builder.graph, None  # the next parse starts afresh
    return Program(text, graph, list(outputs), builder.warnings, builder.params)
