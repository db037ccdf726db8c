"""A lean driver for the LALR tables that Lark builds from ``grammar/adcli.lark``.

Lark compiles the grammar (and caches the tables); its terminals give the lexer's
one regular expression and its rule callbacks give the semantics. Only the loop
that feeds tokens to the table lives here, because Lark's general-purpose loop and
token objects cost three times as much per token, and programs run to 10^5
statements. The loop is iterative: nesting depth only grows two lists.
"""

from __future__ import annotations

import re
from typing import Any

END = "$END"
SEP = "SEP"  # the statement separator: a blank inside brackets
OPENERS = ("LPAR", "LSQB")
CLOSERS = ("RPAR", "RSQB")
# What the loop does with a terminal besides parsing it (most terminals: nothing).
_IGNORED, _SEPARATOR, _OPENS, _CLOSES = "ignored", "separator", "opens", "closes"


class Token(str):
    """A token's text, with its terminal name and its offset in the input."""

    __slots__ = ("type", "pos")


class SyntaxFailure(Exception):
    """Where the input stopped fitting the grammar; the caller words the message."""

    def __init__(self, pos: int, token: Token | None, expected: list[str]) -> None:
        super().__init__(pos)
        self.pos = pos
        self.token = token  # None: no terminal matches the text at pos
        self.expected = expected


def _direct(callback: Any) -> Any:
    """Lark's child filter, as one C-level ``itemgetter`` where the rule allows.

    A rule that only drops punctuation (no inlined sub-rule, no placeholder) keeps
    fixed positions; anything else keeps Lark's own filter.
    """
    from operator import itemgetter

    include = getattr(callback, "to_include", None)
    method = getattr(callback, "node_builder", None)
    if type(callback).__name__ != "ChildFilterLALR_NoPlaceholders" or not include or not method:
        return callback
    if any(expand for _, expand in include):
        return callback
    positions = [i for i, _ in include]
    if len(positions) == 1:
        (i,) = positions
        return lambda children: method([children[i]])
    pick = itemgetter(*positions)
    return lambda children: method(list(pick(children)))  # a list: Lark's filters extend it


class Machine:
    """The tables of one Lark LALR parser, in the shape the loop wants."""

    def __init__(self, lark: Any) -> None:
        from lark.parsers.lalr_analysis import Shift

        inner = lark.parser.parser.parser
        table = inner.parse_table
        callbacks = inner.callbacks
        reductions: dict[Any, tuple] = {}
        for rule in callbacks:
            unit = rule.options.expand1 and len(rule.expansion) == 1 and not rule.alias
            # A unit rule's callback returns its one child: skip the call.
            reductions[rule] = (len(rule.expansion), None if unit else _direct(callbacks[rule]),
                                str(rule.origin.name))  # fmt: skip
        # Symbols as plain str: Lark's names are Token objects whose __eq__ is Python
        # code, which a dict lookup by the lexer's str would call for every token.
        self.actions = {
            state: {
                str(symbol): (target if action is Shift else reductions[target])
                for symbol, (action, target) in row.items()
            }
            for state, row in table.states.items()
        }
        self.start = table.start_states["start"]
        self.end = table.end_states["start"]
        terminals = sorted(
            lark.terminals,
            key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
        )
        self.regex = re.compile(
            "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)
        )
        # Every terminal's role in the loop (None for most): one subscript per token.
        self.roles: dict[str, str | None] = {t.name: None for t in terminals}
        self.roles.update({name: _IGNORED for name in lark.lexer_conf.ignore})
        self.roles[SEP] = _SEPARATOR
        self.roles.update({name: _OPENS for name in OPENERS if name in self.roles})
        self.roles.update({name: _CLOSES for name in CLOSERS if name in self.roles})
        self._terminals: list[str] | None = None  # made on the first error
        # Terminals whose text reaches a callback; the callbacks drop the others.
        self.keep = frozenset(
            sym.name for rule in callbacks for sym in rule.expansion
            if sym.is_term and not sym.filter_out
        )  # fmt: skip

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
                else:  # punctuation: the callbacks drop it, so no object is made
                    token = kind
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
                if callback is None:
                    del states[-1]
                else:
                    children = values[-n:] if n else []
                    if n:
                        del states[-n:]
                        del values[-n:]
                    push_value(callback(children) if build else None)
                row = actions[states[-1]]
                push_state(row[origin])
                row = actions[states[-1]]
                if kind == END and states[-1] == end_state:
                    return values[-1]

    def _expected_at(self, text: str, pos: int) -> list[str]:
        """What the grammar takes at offset ``pos``: the text before it is parsed
        again, building nothing, and each terminal is tried there (errors only)."""
        return self.acceptable(self.run(text, stop=pos))
