"""Text → graph, with the one Lark grammar.

The builder is the LALR parser's transformer, so every rule becomes a call to a
graph constructor the moment it is reduced: no parse tree is built and nothing
recurses, whatever the nesting depth. Parse errors become ``ParseError`` with the
line, the column and what was expected there.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import ParseError
from .graph import Graph
from .ops import CONSTANTS, FUNCTIONS

_GRAMMAR_PATHS = (
    Path(__file__).resolve().parent.parent / "grammar" / "adcli.lark",  # source tree
    Path(__file__).resolve().parent / "grammar" / "adcli.lark",  # installed wheel
)


class Program:
    """What a text defines: the graph, its outputs and its free variables."""

    def __init__(self, text: str, graph: Graph, outputs: list[int]) -> None:
        self.text = text
        self.graph = graph
        self.outputs = outputs

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(self.graph.variables)


_parser = None


def _make_parser():
    from lark import Lark

    from .lalr import Machine

    grammar = next(p for p in _GRAMMAR_PATHS if p.exists()).read_text(encoding="utf-8")
    builder = _Builder()
    # The builder is the transformer: Lark binds each rule's callback to the builder
    # method of the same name (or alias) once, here. The LALR tables are cached in
    # the user's own cache directory (Lark's default, the shared temp directory,
    # would load a pickle any local user could plant); Lark checks the grammar's
    # hash on load, so an old cache is rebuilt.
    lark = Lark(grammar, parser="lalr", transformer=builder, cache=_cache_file())
    return Machine(lark), builder


def _cache_file() -> str | bool:
    import os

    from lark import __version__

    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(root, "adcli")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return False  # no cache: slower start-up, same answers
    if not os.access(folder, os.W_OK):
        return False
    return os.path.join(folder, f"grammar-lark-{__version__}.cache")


class _Builder:
    """Builds the graph while the parser reduces rules; ``reset`` before each parse."""

    def reset(self, text: str) -> None:
        self.text = text
        self.graph = Graph()
        self.assigned: dict[str, int] = {}
        self.free: set[str] = set()
        self.last_outputs: list[int] = []

    def _error(self, message: str, token, hint: str | None = None) -> ParseError:
        return ParseError(message, self.text, *_position(self.text, token.pos), hint)

    # statements
    def start(self, children):
        return self.last_outputs

    def program(self, children):
        return None  # each statement has done its work as it was reduced

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
        return node

    def outputs(self, nodes):
        self.last_outputs = list(nodes)
        return nodes

    # operators
    def add(self, c):
        return self.graph.add(c[0], c[1])

    def sub(self, c):
        return self.graph.sub(c[0], c[1])

    def mul(self, c):
        return self.graph.mul(c[0], c[1])

    def div(self, c):
        return self.graph.div(c[0], c[1])

    def neg(self, c):
        return self.graph.neg(c[0])

    def pos(self, c):
        return c[0]

    def pow(self, c):
        return self.graph.pow(c[0], c[2])

    # atoms
    def number(self, c):
        return self.graph.const(float(c[0]))

    def name(self, c):
        token = c[0]
        name = str(token)
        if name in self.assigned:
            return self.assigned[name]
        if name in CONSTANTS:
            return self.graph.const(CONSTANTS[name])
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
        if name == "log" and len(args) == 2:
            return g.div(g.call("log", args[0]), g.call("log", args[1]))
        return g.apply(name, *args)

    def _unknown_function(self, token) -> ParseError:
        import difflib

        name = str(token)
        close = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.6)
        if close:
            return self._error(f"unknown function {name}", token, f"did you mean {close[0]}?")
        return self._error(
            f"{name} is not a function, and implicit multiplication is not supported",
            token,
            f"write {name}*(...) to multiply",
        )


_TERMINAL_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'",
    "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "POW": "'**'",
    "COMMA": "','", "EQUAL": "'='", "_SEP": "';' or a new line",
    "$END": "the end of the input",
}  # fmt: skip

_ENDS_OPERAND = r"([\w.]+|\))\s*$"


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
        char = text[failure.pos]
        return ParseError(f"unexpected character {char!r}", text, line, column,
                          _expected(expected) if expected else None)  # fmt: skip
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
        return ParseError("implicit multiplication is not supported", text, line, column,
                          f"write {left}*{right}")  # fmt: skip
    if token.type == "_SEP":
        what = "';'" if token.startswith(";") else "end of the line"
    else:
        what = (
            f"{str(token)!r}"
            if token.type in _TERMINAL_WORDS
            else f"{_describe(token.type)} {str(token)!r}"
        )
    return ParseError(f"unexpected {what}", text, line, column, _expected(expected))


def parse(text: str) -> Program:
    """Parse a text into a program: its graph, outputs and free variables."""
    global _parser
    from .lalr import SyntaxFailure

    if _parser is None:
        _parser = _make_parser()
    machine, builder = _parser
    builder.reset(text)
    try:
        outputs = machine.run(text)
    except SyntaxFailure as failure:
        raise _parse_error(text, failure) from None
    finally:
        graph, builder.graph = builder.graph, None  # the next parse starts afresh
    return Program(text, graph, list(outputs))
