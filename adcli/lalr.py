"""Two drivers for the LALR tables that Lark builds from ``grammar/adcli.lark``.

Lark compiles the grammar (and caches the tables); its terminals give the lexer's
one regular expression and its rule callbacks give the semantics. ``Machine`` is
the loop that feeds tokens to the table: Lark's general-purpose loop and token
objects cost three times as much per token, and programs run to 10^5 statements.
It reads Lark's parse table and callbacks, which are not Lark's public API, so
``driver`` checks them and falls back to ``LarkLoop``, Lark's own public parser with
the same callbacks (the same graphs) and the same errors, when they are not what
the machine expects. Both are iterative: nesting depth only grows two lists.

What the machine reads is plain data (``snapshot``: the table, the terminals' regular
expressions, each rule's callback as the builder method and the children it takes),
so ``syntax`` caches it and a later start builds the machine without importing Lark
at all: a third of adcli's start-up.

Besides plain LALR, both read a new line inside brackets as a blank, as Python
does (``SEP`` without ';' is skipped there), and both say what was expected after
an error with the terminals that the parser really takes at that point.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .errors import ShapeError

END = "$END"
SEP = "SEP"  # the statement separator: a blank inside brackets
OPENERS = ("LPAR", "LSQB")
CLOSERS = ("RPAR", "RSQB")
# What the loop does with a terminal besides parsing it (most terminals: nothing).
_IGNORED, _SEPARATOR, _OPENS, _CLOSES = "ignored", "separator", "opens", "closes"
_OPERATORS = frozenset({"PLUS", "MINUS", "STAR", "SLASH", "POW", "AT"})
_SINGLE = "_SINGLE"  # the regex group of the one-character terminals
# A program that every rule of the grammar takes part in, and one cut short: the
# machine must accept the first and not the second, or Lark's loop is used.
_PROBES = (("# a probe\nparam v = 1\nparam W = zeros(2, 2)\n"
            "a = -x*2/y + f(x, 1)**+2 - (3) @ W[0, 1:2:1, :]\nb = g(\n); a < b, b\n", True),
           ("f(x,\n1) +", False))  # fmt: skip


class Token(str):
    """A token's text, with its terminal name and its offset in the input."""

    __slots__ = ("type", "pos")


class ShapeFailure(Exception):
    """A rule's callback found shapes that do not fit (``errors.ShapeError``), at the
    operator whose offset is ``pos``."""

    def __init__(self, pos: int, error: Exception) -> None:
        super().__init__(pos)
        self.pos, self.error = pos, error


class SyntaxFailure(Exception):
    """Where the input stopped fitting the grammar; the caller words the message."""

    def __init__(self, pos: int, token: Token | None, expected: list[str]) -> None:
        super().__init__(pos)
        self.pos = pos
        self.token = token  # None: no terminal matches the text at pos
        self.expected = expected


def _operator_at(children: list, m: Any, size: int) -> int:
    """Where a rule's operator stands: the offset of its first punctuation (which the
    machine keeps as its regex match), else of the token after the rule."""
    for child in children:
        if isinstance(child, re.Match):
            return child.start()
    return m.start() if m is not None else size


def driver(lark: Any, remake: Callable[[Any], Any], fast: bool = True) -> Machine | LarkLoop:
    """The machine over ``lark``'s tables, or Lark's own loop where the machine cannot
    read them (another Lark release). ``remake(transformer)`` makes the same Lark with
    another transformer (Lark's loop needs one that builds nothing, after an error)."""
    if fast:
        try:
            return Machine(lark)
        except Exception:  # the tables are not in the shape the machine reads
            pass
    return LarkLoop(lark, remake)


TABLES_FORMAT = 1  # the version of ``snapshot``'s shape: a cache of another is rebuilt


def snapshot(lark: Any) -> dict[str, Any]:
    """What the machine reads of ``lark`` (its transformer the builder), as plain data
    that ``marshal`` stores: the actions of each state (a shift's target state, or a
    reduction's size, callback and rule name), the terminals, the ignored ones, and
    the ones whose text reaches a callback. Anything unexpected raises."""
    from lark.parsers.lalr_analysis import Reduce, Shift

    builder = lark.options.transformer
    inner = lark.parser.parser.parser
    table = inner.parse_table
    callbacks = inner.callbacks
    reductions: dict[Any, tuple] = {}
    for rule in callbacks:
        unit = rule.options.expand1 and len(rule.expansion) == 1 and not rule.alias
        # A unit rule's callback returns its one child: skip the call.
        reductions[rule] = (len(rule.expansion), None if unit else _spec(callbacks[rule], builder),
                            str(rule.origin.name))  # fmt: skip
    # Symbols as plain str: Lark's names are Token objects whose __eq__ is Python code,
    # which a dict lookup by the lexer's str would call for every token.
    actions: dict[int, dict[str, Any]] = {}
    for state, row in table.states.items():
        entries = actions[_state(state)] = {}
        for symbol, (action, target) in row.items():
            if action is Shift:
                entries[str(symbol)] = _state(target)
            elif action is Reduce:
                entries[str(symbol)] = reductions[target]
            else:
                raise ValueError(f"an action the machine does not know: {action!r}")
    terminals = sorted(
        lark.terminals,
        key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
    )
    return {
        "format": TABLES_FORMAT,
        "actions": actions,
        "start": _state(table.start_states["start"]),
        "end": _state(table.end_states["start"]),
        # in the order the lexer tries them; the one-character punctuation marked
        "terminals": tuple(
            (
                str(t.name),
                t.pattern.to_regexp(),
                t.pattern.type == "str" and len(t.pattern.value) == 1 and t.priority == 0,
                str(t.pattern.value),
            )
            for t in terminals
        ),  # fmt: skip
        "ignore": tuple(sorted(str(name) for name in lark.lexer_conf.ignore)),
        "keep": tuple(
            sorted(
                {
                    str(sym.name)
                    for rule in callbacks
                    for sym in rule.expansion
                    if sym.is_term and not sym.filter_out
                }
            )
        ),  # fmt: skip
    }


def _spec(callback: Any, builder: Any) -> tuple:
    """A rule's callback as data: ``("method", name)`` (the builder's method of that
    name, given the children), ``("tree", name)`` (an inlined rule's children, kept
    for the rule that takes them in), ``("single", inner)`` (the one child, else
    inner), ``("filter", children, nones after, inner)`` (Lark's child filter: each
    child as ``(position, inlined, nones before)``). A callback of another shape raises."""
    import functools

    kind = type(callback).__name__
    name = getattr(callback, "__name__", None)
    if (
        name
        and getattr(callback, "__self__", None) is builder
        and callback == getattr(builder, name)
    ):
        return ("method", name)
    if (isinstance(callback, functools.partial) and getattr(callback.func, "__name__", "") == "Tree"
            and len(callback.args) == 1 and not callback.keywords):  # fmt: skip
        return ("tree", str(callback.args[0]))
    if kind == "ExpandSingleChild":
        return ("single", _spec(callback.node_builder, builder))
    if kind in ("ChildFilterLALR", "ChildFilterLALR_NoPlaceholders"):
        width = 3 if kind == "ChildFilterLALR" else 2
        children = []
        for entry in callback.to_include:
            if len(entry) != width:
                raise ValueError(f"a child filter of another shape: {entry!r}")
            position, inlined, *nones = entry
            children.append((_count(position), bool(inlined), _count(nones[0]) if nones else 0))
        after = _count(callback.append_none) if width == 3 else 0
        return ("filter", tuple(children), after, _spec(callback.node_builder, builder))
    raise TypeError(f"a callback the machine does not know: {callback!r}")


def _count(value: Any) -> int:
    if value.__class__ not in (int, bool) or value < 0:
        raise TypeError(f"not a count: {value!r}")
    return int(value)


class _Tree:
    """An inlined rule's children, which the rule that takes them in reads (Lark's
    ``Tree``, as its filters use it)."""

    __slots__ = ("data", "children")

    def __init__(self, data: str, children: list) -> None:
        self.data, self.children = data, children


def _callable(spec: tuple, builder: Any) -> Callable[[list], Any]:
    """The function of the children that ``spec`` (``_spec``) describes. A filter that
    only drops punctuation keeps fixed positions: one C-level ``itemgetter``."""
    from operator import itemgetter

    kind = spec[0]
    if kind == "method":
        return getattr(builder, spec[1])
    if kind == "tree":
        label = spec[1]
        return lambda children: _Tree(label, children)
    if kind == "single":
        inner = _callable(spec[1], builder)
        return lambda children: children[0] if len(children) == 1 else inner(children)
    if kind != "filter":
        raise ValueError(f"a callback the machine does not know: {spec!r}")
    _, include, after, inner_spec = spec
    method = _callable(inner_spec, builder)
    if not after and not any(inlined or nones for _, inlined, nones in include):
        positions = [i for i, _, _ in include]
        if len(positions) == 1:
            (i,) = positions
            return lambda children: method([children[i]])
        if not positions:
            return lambda children: method([])
        pick = itemgetter(*positions)
        return lambda children: method(list(pick(children)))  # a list: filters extend it

    def filtered(children: list) -> Any:  # Lark's ChildFilterLALR, step for step
        taken: list = []
        for i, inlined, nones in include:
            if nones:
                taken += [None] * nones
            if inlined:
                if taken:
                    taken += children[i].children
                else:  # left recursion: the inlined list itself grows
                    taken = children[i].children
            else:
                taken.append(children[i])
        if after:
            taken += [None] * after
        return method(taken)

    return filtered


def _state(state: Any) -> int:
    """A state of the table: an int, which the loop tells from a reduction by its class."""
    if state.__class__ is not int:
        raise TypeError(f"a parser state that is not an int: {state!r}")
    return state


class Machine:
    """The tables of one Lark LALR parser, in the shape the loop wants."""

    def __init__(self, lark: Any, builder: Any = None, tables: dict | None = None) -> None:
        """Read ``lark``'s tables (``snapshot``), or take ``tables``, a snapshot made
        before, with ``builder`` for its callbacks (then ``lark`` is None); any
        surprise raises, and the caller takes Lark's loop."""
        if tables is None:
            tables, builder = snapshot(lark), lark.options.transformer
        if tables.get("format") != TABLES_FORMAT:
            raise ValueError("tables of another format")
        self.tables = tables  # what a cache keeps
        made: dict[tuple, Any] = {}  # one function per callback, shared by its states
        self.actions: dict[int, dict[str, Any]] = {}
        for state, row in tables["actions"].items():
            entries = self.actions[_state(state)] = {}
            for symbol, action in row.items():
                if action.__class__ is not int:
                    size, spec, origin = action
                    if spec is not None and spec not in made:
                        made[spec] = _callable(spec, builder)
                    action = (size, None if spec is None else made[spec], origin)
                entries[symbol] = action
        self.start, self.end = _state(tables["start"]), _state(tables["end"])
        terminals = tables["terminals"]
        # The one-character literals (punctuation) are one branch at the end, a
        # character class: the regex tries its branches in turn, and a dozen of them
        # for each `*` or `(` was a third of the lexing. Any longer terminal that
        # matches where they do (`**` before `*`) comes first, as Lark orders them.
        self.singles = {value: name for name, _, single, value in terminals if single}
        branches = [f"(?P<{name}>{regex})" for name, regex, single, _ in terminals if not single]
        if self.singles:
            chars = "".join(re.escape(c) for c in self.singles)
            branches.append(f"(?P<{_SINGLE}>[{chars}])")
        self.regex = re.compile("|".join(branches))
        # Every terminal's role in the loop (None for most): one subscript per token.
        self.roles: dict[str, str | None] = {name: None for name, *_ in terminals}
        self.roles.update({name: _IGNORED for name in tables["ignore"]})
        self.roles[SEP] = _SEPARATOR
        self.roles.update({name: _OPENS for name in OPENERS if name in self.roles})
        self.roles.update({name: _CLOSES for name in CLOSERS if name in self.roles})
        self._terminals: list[str] | None = None  # made on the first error
        # (state below, state on top, lookahead) -> the top after a chain of unit rules
        self.units: dict[tuple[int, int, str], int] = {}
        # Terminals whose text reaches a callback; the callbacks drop the others.
        self.keep = frozenset(tables["keep"])
        for text, complete in _PROBES:
            if (END in self.acceptable(self.run(text, stop=len(text)))) != complete:
                raise ValueError(f"the machine misreads the tables: {text!r}")

    def acceptable(self, states: list[int]) -> list[str]:
        """The terminals that the parser in ``states`` can take next.

        LALR tables reduce on a lookahead before they know that it fits (their
        states share lookaheads), so the row of the state where an error shows
        lists too few terminals (``*`` is gone once ``x`` was reduced to a sum)
        or too many. Each terminal is tried on a copy of the stack instead.
        """
        if self._terminals is None:
            symbols = {s for row in self.actions.values() for s in row}
            self._terminals = sorted(s for s in symbols if s == END or s.isupper())
        return [kind for kind in self._terminals if self._accepts(list(states), kind)]

    def _accepts(self, states: list[int], kind: str) -> bool:
        actions = self.actions
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                return False
            if action.__class__ is int:
                return True
            n, _, origin = action
            del states[len(states) - n :]
            states.append(actions[states[-1]][origin])
            if kind == END and states[-1] == self.end:
                return True

    def run(self, text: str, stop: int | None = None) -> Any:
        """Parse ``text``, calling the rule callbacks; the value of the start rule.

        With ``stop``, nothing is built: the state stack just before the token at
        offset ``stop`` is returned (to say what was expected there).
        """
        actions, match, roles, keep = self.actions, self.regex.match, self.roles, self.keep
        singles, units = self.singles, self.units
        build = stop is None
        end_state = self.end
        states: list[int] = [self.start]
        values: list[Any] = []
        push_state, push_value = states.append, values.append
        pos, size = 0, len(text)
        depth = 0  # open brackets: inside them a new line is a blank, as in Python
        while True:
            if pos < size:
                m = match(text, pos)
                if m is None:
                    if not build:
                        return states
                    raise SyntaxFailure(pos, None, self._expected_at(text, pos))
                kind = m.lastgroup
                if kind == _SINGLE:
                    kind = singles[m.group()]
                pos = m.end()
                role = roles[kind]
                if role is not None:
                    if role is _IGNORED:
                        continue
                    if role is _SEPARATOR:
                        if depth and ";" not in m.group():
                            continue
                    elif role is _OPENS:
                        depth += 1
                    elif depth:
                        depth -= 1
                if not build and m.start() >= stop:
                    return states
                if kind in keep:
                    token = Token(m.group())
                    token.type, token.pos = kind, m.start()
                else:  # punctuation: the callbacks drop it; its match (made already)
                    token = m  # says where it stands, should a shape error need it
            else:
                if not build:
                    return states
                kind = token = END
            row = actions[states[-1]]
            while True:
                action = row.get(kind)
                if action is None:
                    if not build:
                        return states
                    start = size if kind == END else m.start()
                    found = Token("" if kind == END else m.group())
                    found.type, found.pos = kind, start
                    raise SyntaxFailure(start, found, self._expected_at(text, start))
                if action.__class__ is int:  # shift
                    push_state(action)
                    push_value(token)
                    break
                n, callback, origin = action
                if callback is None:  # a unit rule (sum: product): the chain of them at once
                    key = (states[-2], states[-1], kind)
                    top = units.get(key)
                    if top is None:
                        top = units[key] = self._after_units(states[-2], states[-1], kind)
                    states[-1] = top
                    row = actions[top]
                    continue
                else:
                    children = values[-n:] if n else []
                    if n:
                        del states[-n:]
                        del values[-n:]
                    try:
                        push_value(callback(children) if build else None)
                    except ShapeError as error:
                        raise ShapeFailure(_operator_at(children, m, size), error) from None
                row = actions[states[-1]]
                push_state(row[origin])
                row = actions[states[-1]]
                if kind == END and states[-1] == end_state:
                    return values[-1]

    def _after_units(self, below: int, top: int, kind: str) -> int:
        """The state on top after every unit reduction that ``kind`` calls for in a row:
        each pops the top state and goes from ``below`` by its rule's name, so the
        chain depends on these three only (and is worked out once for them)."""
        actions = self.actions
        while top != self.end:
            action = actions[top].get(kind)
            if action is None or action.__class__ is int or action[1] is not None:
                break
            top = actions[below][action[2]]
        return top

    def _expected_at(self, text: str, pos: int) -> list[str]:
        """What the grammar takes at offset ``pos``: the text before it is parsed
        again, building nothing, and each terminal is tried there (errors only)."""
        return self.acceptable(self.run(text, stop=pos))


def _placed_token() -> type:
    """Lark's token, with the ``pos`` that the callbacks read (Lark's ``start_pos``):
    made when Lark's loop is, so that the machine never imports Lark."""
    global PlacedToken
    if PlacedToken is None:
        from lark import Token as LarkToken

        class Placed(LarkToken):
            __slots__ = ()

            @property
            def pos(self) -> int:
                return self.start_pos

        PlacedToken = Placed
    return PlacedToken


PlacedToken: Any = None


class BracketBlanks:
    """Lark's post-lexer for ``LarkLoop``: the separator rule of the machine's loop (a
    new line inside brackets is a blank), and tokens that know their offset."""

    always_accept = ()

    def __init__(self) -> None:
        self.operator = 0  # the offset of the last operator read: where a shape error is

    def process(self, stream: Iterator[Any]) -> Iterator[Any]:
        new = _placed_token().new_borrow_pos
        depth = 0  # open brackets
        self.operator = 0
        for token in stream:
            kind = token.type
            if kind in _OPERATORS:
                self.operator = token.start_pos
            if kind == SEP:
                if depth and ";" not in token:
                    continue
            elif kind in OPENERS:
                depth += 1
            elif kind in CLOSERS and depth:
                depth -= 1
            yield new(kind, token.value, token)


class LarkLoop:
    """Lark's own LALR loop through its public API, for a Lark whose tables the machine
    cannot read: the same callbacks, so the same graphs, and the same failures."""

    def __init__(self, lark: Any, remake: Callable[[Any], Any]) -> None:
        self.lark = lark
        self._remake = remake
        self._states: Any = None  # the same parser building nothing, made on the first error

    def run(self, text: str) -> Any:
        """Parse ``text``, calling the rule callbacks; the value of the start rule."""
        from lark import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

        try:
            return self.lark.parse(text)
        except ShapeError as error:  # at the last operator read: the machine's, mostly
            raise ShapeFailure(self.lark.options.postlex.operator, error) from None
        except UnexpectedCharacters as error:
            pos = error.pos_in_stream
            raise SyntaxFailure(pos, None, self._expected_at(text, pos)) from None
        except (UnexpectedToken, UnexpectedEOF) as error:
            token = error.token if isinstance(error, UnexpectedToken) else None
            kind = END if token is None or token.type == END else token.type
            pos = len(text) if kind == END else token.start_pos
            found = Token("" if kind == END else str(token))
            found.type, found.pos = kind, pos
            raise SyntaxFailure(pos, found, self._expected_at(text, pos)) from None

    def _expected_at(self, text: str, pos: int) -> list[str]:
        """What the grammar takes at offset ``pos``: the text before it is parsed again,
        building nothing, and Lark tries each terminal there (errors only).

        Lark's own error holds its parser after the reductions that the failing token
        set off, which may have lost terminals (see ``Machine.acceptable``): the parse
        stops before that token instead.
        """
        from lark import Transformer, Tree, UnexpectedCharacters

        if self._states is None:

            class Leaves(Transformer):
                """Each rule's value is a tree without children (Lark's filters read
                the children of a rule that they inline): no tree is kept, so there is
                nothing deep to copy (Lark before 1.2 deep-copies the values when it
                tries a terminal) or to recurse into."""

                def __default__(self, data: Any, children: Any, meta: Any) -> Any:
                    return Tree(data, [])

            self._states = self._remake(Leaves())
        parser = self._states.parse_interactive(text)
        try:
            for token in parser.iter_parse():  # each token comes before it is fed
                if token.start_pos >= pos:
                    break
        except UnexpectedCharacters:
            pass  # the character at pos
        return sorted(parser.accepts())
