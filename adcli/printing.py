"""Graph → text in adcli's own syntax, with parentheses only where precedence needs them."""

from __future__ import annotations

import functools
import math

from .errors import UsageError
from .graph import CONST, VAR, Graph, without_gc
from .ops import OPS, PREC_ATOM, PREC_CMP, PREC_MUL, PREC_NEG, PREC_POW, subscripts_text


def number(value: float) -> str:
    """A constant as a person writes it: ``2``, ``0.5``, ``pi``, ``1/3``, ``2/log(2)``."""
    return constant(value)[0]


def constant(value: float) -> tuple[str, int]:
    """A constant's text and its precedence; a fraction or a multiple of a named
    constant (``pi``, ``e``, ``sqrt(2)``, ``sqrt(pi)``, ``log(2)``, ``log(10)``) is
    written so when it is shorter and parses back to exactly the same float."""
    if value.is_integer() and abs(value) < 1e16:
        text = str(int(value))
    else:
        text, prec = _symbolic().get(abs(value), (repr(abs(value)), PREC_ATOM))
        if len(text) >= len(repr(abs(value))):
            text, prec = repr(abs(value)), PREC_ATOM
        if value < 0:
            text, prec = "-" + text, min(prec, PREC_NEG)
        return text, prec
    return text, PREC_NEG if text.startswith("-") else PREC_ATOM


_NAMED = (
    ("pi", math.pi), ("e", math.e), ("sqrt(2)", math.sqrt(2.0)),
    ("sqrt(pi)", math.sqrt(math.pi)), ("log(2)", math.log(2.0)), ("log(10)", math.log(10.0)),
)  # fmt: skip


@functools.cache
def _symbolic() -> dict[float, tuple[str, int]]:
    """Every ``p/q``, ``p*K/q`` and ``p/(q*K)`` with small p and q, by its float as
    the parser folds the text (left to right); the shortest text wins a tie."""
    table: dict[float, tuple[str, int]] = {}

    def keep(v: float, text: str, prec: int) -> None:
        if v not in table or len(text) < len(table[v][0]):
            table[v] = (text, prec)

    for q in range(1, 13):
        for p in range(1, 13):
            if math.gcd(p, q) != 1:
                continue
            if q > 1:
                keep(p / q, f"{p}/{q}", PREC_MUL)
            for name, k in _NAMED:
                times = k if p == 1 else p * k
                head = name if p == 1 else f"{p}*{name}"
                if q == 1:
                    keep(times, head, PREC_ATOM if p == 1 else PREC_MUL)
                else:
                    keep(times / q, f"{head}/{q}", PREC_MUL)
                keep(p / k if q == 1 else p / (q * k),
                     f"{p}/{name}" if q == 1 else f"{p}/({q}*{name})", PREC_MUL)  # fmt: skip
    return table


class TooLong(Exception):
    """The formula is longer than the budget ``to_text`` was given."""


# A node's length stops counting here: a DAG's text can be exponentially longer than
# the DAG, and a length only ever meets budgets far below this.
CAP = 1 << 62
# A node whose whole text is this short is copied into its users' ropes as a string.
SHORT = 64

# A piece of a rope: text, or the id of a node whose text goes there.
Piece = str | int


class Ropes:
    """The text of every node below some outputs, kept as a rope: a short tuple of
    strings and ids of the nodes whose text goes between them. With each rope its
    precedence, its length (capped at ``CAP``) and whether it starts with ``-``; so
    making all of them costs O(nodes), and a text is spelled out only when asked.

    ``names`` prints a labelled node (other than an output) by its label; ``labels``
    prints the nodes it maps by those names inside other nodes' texts. A node longer
    than ``budget`` raises ``TooLong``.
    """

    def __init__(
        self,
        g: Graph,
        outputs: list[int],
        names: bool = False,
        labels: dict[int, str] | None = None,
        budget: int | None = None,
        latex: bool = False,
    ) -> None:
        self.g = g
        name = _latex_name if latex else str
        operation = _latex_operation if latex else _operation
        top = max(outputs, default=-1)
        wanted = set(outputs)
        needed = [False] * (top + 1)
        for n in outputs:
            needed[n] = True
        for n in range(top, -1, -1):
            by_name = names and g.label[n] is not None
            if needed[n] and g.op[n] != VAR and (n in wanted or not by_name):
                for a in g.args[n]:
                    needed[a] = True
        rope: list[tuple[Piece, ...]] = [()] * (top + 1)
        size = [0] * (top + 1)
        # how a node appears inside its users: (piece, precedence, starts with "-")
        part: list[tuple[Piece, int, bool]] = [("", PREC_ATOM, False)] * (top + 1)
        for n in range(top + 1):
            if not needed[n]:
                continue
            op = g.op[n]
            if op == CONST:
                t, prec = constant(g.value[n])
                if latex:
                    t = _latex_constant(t)
                    prec = PREC_NEG if t.startswith("-") else PREC_ATOM
                pieces: tuple[Piece, ...] = (t,)
                length, minus = len(t), t.startswith("-")
            elif op == VAR or (names and n not in wanted and g.label[n] is not None):
                t = name(g.label[n])
                pieces, length, prec, minus = (t,), len(t), PREC_ATOM, False
            else:
                inputs = [part[a] for a in g.args[n]]
                joined, prec = operation(g, n, inputs)
                if all(p[0].__class__ is str for p in inputs):  # all short: copied in
                    t = "".join(joined)
                    pieces, length = (t,), len(t)
                else:
                    pieces, length = _compact(joined, size)
                if budget is not None and length > budget:
                    raise TooLong
                first = pieces[0]
                minus = first.startswith("-") if isinstance(first, str) else part[first][2]
            rope[n], size[n] = pieces, length
            if labels and n in labels:
                part[n] = (name(labels[n]), PREC_ATOM, False)
            elif len(pieces) == 1 and length <= SHORT:
                part[n] = (pieces[0], prec, minus)
            else:
                part[n] = (n, prec, minus)
        self.rope, self.size = rope, size

    def text(self, n: int, limit: int | None = None) -> str:
        """Node ``n``'s text, spelled out by one loop over its rope; with ``limit``,
        only the first ``limit - 1`` characters and ``…`` when it is longer."""
        if limit is not None and self.size[n] <= limit:
            limit = None
        want = CAP if limit is None else limit - 1
        rope = self.rope
        out: list[str] = []
        got = 0
        stack: list[Piece] = [n]
        while stack and got < want:
            piece = stack.pop()
            if isinstance(piece, str):
                out.append(piece)
                got += len(piece)
            else:
                stack.extend(reversed(rope[piece]))
        text = "".join(out)
        return text if limit is None else text[:want] + "…"


def _compact(pieces: list[Piece], size: list[int]) -> tuple[tuple[Piece, ...], int]:
    """Adjacent strings joined, and the length (capped) of the text."""
    out: list[Piece] = []
    length = 0
    for p in pieces:
        if isinstance(p, str):
            length += len(p)
            if out and isinstance(out[-1], str):
                out[-1] += p
                continue
        else:
            length += size[p]
        out.append(p)
    return tuple(out), min(length, CAP)


def to_text(
    g: Graph,
    root: int,
    names: bool = False,
    limit: int | None = None,
    labels: dict[int, str] | None = None,
    budget: int | None = None,
) -> str:
    """Print ``root`` as a formula; ``names`` prints labelled nodes by their label,
    ``labels`` prints the nodes it names by those names (shared subexpressions).

    With ``limit`` (at least 1), the text is cut to ``limit`` characters ending in
    ``…``, and only those are made. A graph printed without names can be
    exponentially longer than itself: past ``budget`` characters this raises ``TooLong``.
    """
    return to_texts(g, [root], names, limit, labels, budget)[root]


def to_texts(
    g: Graph,
    outputs: list[int],
    names: bool = False,
    limit: int | None = None,
    labels: dict[int, str] | None = None,
    budget: int | None = None,
    latex: bool = False,
) -> dict[int, str]:
    """The text (or ``latex``) of each output node: one iterative pass over the nodes
    below them (not below a node printed by its name), then each output spelled out."""
    ropes = Ropes(g, outputs, names, labels, budget, latex)
    leaves = (CONST, VAR)  # never cut: the limit is for operations
    return {n: ropes.text(n, None if g.op[n] in leaves else limit) for n in outputs}


class Labels:
    """Each node's formula cut to ``width`` characters (``…`` where cut), labelled
    nodes inside it by their labels: the node column of the per-node tables.

    One pass over the graph per width, in id order and only as far as asked, keeps
    every node's cut text: a table of n rows costs O(n·width), where printing each
    row's whole subgraph cost O(n²).
    """

    def __init__(self, g: Graph) -> None:
        self.g = g
        self._cut: dict[int, list[tuple[str, int, bool]]] = {}

    def __call__(self, node: int, width: int) -> str:
        done = self._cut.setdefault(width, [])
        if node >= len(done):
            self._extend(done, node, width)
        text = done[node][0]  # a constant is not cut inside a formula, only here
        return text if len(text) <= width else text[: width - 1] + "…"

    @without_gc
    def _extend(self, done: list[tuple[str, int, bool]], node: int, width: int) -> None:
        """The cut texts of the nodes after those ``done``, up to ``node``."""
        g = self.g
        for n in range(len(done), node + 1):
            op = g.op[n]
            if op == CONST:
                t, prec = constant(g.value[n])
            elif op == VAR:
                t, prec = g.label[n], PREC_ATOM
            else:
                parts = [
                    (g.label[a], PREC_ATOM, False)
                    if g.label[a] is not None and g.op[a] != CONST
                    else done[a]
                    for a in g.args[n]
                ]
                pieces, prec = _operation(g, n, parts)
                t = "".join(pieces)  # the inputs' texts are cut: short
                if len(t) > width:
                    t = t[: width - 1] + "…"
            done.append((t, prec, t.startswith("-")))


def _wrap(piece: Piece, needs: bool) -> list[Piece]:
    return ["(", piece, ")"] if needs else [piece]


def _operation(g: Graph, n: int, parts) -> tuple[list[Piece], int]:
    """The pieces and precedence of operation ``n`` from its inputs' parts
    ``(piece, precedence, starts with "-")``."""
    op = g.op[n]
    spec = OPS[op]
    if op == "index":
        a, pa, _ = parts[0]
        return [*_wrap(a, pa < PREC_ATOM), f"[{subscripts_text(g.attrs[n])}]"], PREC_ATOM
    if spec.symbol is None:
        pieces: list[Piece] = [f"{op}("]
        for i, p in enumerate(parts):
            if i:
                pieces.append(", ")
            pieces.append(p[0])
        if g.attrs.get(n) is not None:  # an axis, a class count: a call's last argument
            pieces.append(f", {g.attrs[n]}")
        pieces.append(")")
        prec = PREC_ATOM
    elif spec.arity == 1:
        (a, pa, minus), prec = parts[0], spec.precedence
        if pa == PREC_MUL and not minus:
            # -(a*b) as -a*b: negation is exact, so (-a)*b is the same float
            pieces, prec = ["-", a], PREC_MUL
        else:
            pieces = ["-", *_wrap(a, pa < PREC_NEG)]
    else:
        (a, pa, _), (b, pb, _), prec = parts[0], parts[1], spec.precedence
        if prec == PREC_POW:
            left = _wrap(a, pa <= PREC_POW)
            right = _wrap(b, pb < PREC_NEG)
        else:  # a comparison does not chain: (a < b) < c keeps its parentheses
            left = _wrap(a, pa < prec or pa == prec == PREC_CMP)
            right = _wrap(b, pb <= prec)
        sep = spec.symbol if prec == PREC_POW else f" {spec.symbol} "
        if prec == PREC_MUL:
            sep = spec.symbol
        pieces = [*left, sep, *right]
    return pieces, prec


def shared_labels(g: Graph, roots: list[int]) -> dict[int, str]:
    """Names ``t1, t2, …`` for the operations the roots use more than once, in order,
    skipping names the expression already uses for its variables."""
    uses = g.uses(roots, reads=True)  # t*t prints t twice: doubling it doubles the text
    taken = set(g.variables)
    outputs = set(roots)
    labels: dict[int, str] = {}
    k = 0
    for n in range(len(uses)):
        if uses[n] > 1 and g.op[n] not in (CONST, VAR) and n not in outputs:
            k += 1
            while f"t{k}" in taken:
                k += 1
            labels[n] = f"t{k}"
    return labels


# The longest one-line formula ``--no-cse`` prints: a derivative printed without
# names can be exponentially longer than its graph.
MAX_LINE = 1_000_000


@without_gc
def to_program(g: Graph, roots: list[int], cse: bool | None = None) -> tuple[list[str], list[str]]:
    """The roots as formulas, with shared subexpressions named ``t1 = ...`` first.

    ``cse`` True names every non-trivial node used more than once, False names
    none, None (auto) names them only when that makes the whole text shorter.
    Returns the statements and one formula per root. Both forms are measured as
    ropes, in time linear in the graph, and only the one chosen is spelled out.
    """
    if cse is False:
        return [], one_line(g, roots)
    labels = shared_labels(g, roots)
    named = Ropes(g, [*labels, *roots], labels=labels)
    if cse is None and not labels:  # nothing shared: the named form is the plain one
        return [], [named.text(r) for r in roots]
    if cse is None:
        length = sum(len(labels[n]) + len(" = ") + named.size[n] for n in labels)
        length += sum(named.size[r] for r in roots)
        plain = Ropes(g, roots)
        if sum(plain.size[r] for r in roots) <= length:
            return [], [plain.text(r) for r in roots]
    statements = [f"{labels[n]} = {named.text(n)}" for n in labels]
    return statements, [named.text(r) for r in roots]


@without_gc
def one_line(g: Graph, roots: list[int], latex: bool = False) -> list[str]:
    """The roots without names, each on one line, if that stays under ``MAX_LINE``."""
    try:
        ropes = Ropes(g, roots, budget=MAX_LINE, latex=latex)
    except TooLong:
        raise UsageError(
            f"the formula is longer than {MAX_LINE:,} characters on one line",
            "drop {cse=False} to name its shared parts t1, t2, ...",
            options=True,
        ) from None
    return [ropes.text(r) for r in roots]


def program_text(g: Graph, roots: list[int]) -> str:
    """The roots as one program that parses back: ``t1 = ...`` lines when shorter."""
    statements, formulas = to_program(g, roots)
    return "\n".join([*statements, ", ".join(formulas)])


def _latex_operation(g: Graph, n: int, parts) -> tuple[list[Piece], int]:
    """The LaTeX pieces and precedence of operation ``n``, as its row says: a template
    (``\\frac{{{0}}}{{{1}}}``), a function's command (``\\sin``, else
    ``\\operatorname``) or an infix operator (``\\cdot``, else its symbol)."""
    spec = OPS[g.op[n]]
    latex = spec.latex
    if latex is not None and "{0" in latex:
        return _latex_template(latex, parts, spec.precedence)
    if spec.symbol is None:
        head = latex or rf"\operatorname{{{spec.name}}}"
        pieces: list[Piece] = [head + r"\left("]
        for i, p in enumerate(parts):
            if i:
                pieces.append(", ")
            pieces.append(p[0])
        pieces.append(r"\right)")
        return pieces, PREC_ATOM
    if spec.arity == 1:
        (a, pa, _), prec = parts[0], spec.precedence
        return [spec.symbol, *_latex_wrap(a, pa < PREC_NEG)], prec
    (a, pa, _), (b, pb, _), prec = parts[0], parts[1], spec.precedence
    left = _latex_wrap(a, pa < prec)
    right = _latex_wrap(b, pb <= prec)
    return [*left, f" {latex or spec.symbol} ", *right], prec


def _latex_template(template: str, parts, prec: int) -> tuple[list[Piece], int]:
    """A row's LaTeX template filled in: ``{0!p}`` is parenthesised when its input
    binds no tighter than the op, and the result then binds as the op (a power);
    any other template is an atom (a fraction, a root, bars)."""
    pieces: list[Piece] = []
    for literal, field, conversion in _parsed(template):
        if literal:
            pieces.append(literal)
        if field is not None:
            piece, p, _ = parts[field]
            pieces += _latex_wrap(piece, conversion == "p" and p <= prec)
    return pieces, prec if "!p}" in template else PREC_ATOM


@functools.cache
def _parsed(template: str) -> list[tuple[str, int | None, str | None]]:
    import string

    return [(literal, None if field is None else int(field), conversion)
            for literal, field, _, conversion in string.Formatter().parse(template)]  # fmt: skip


def _latex_wrap(piece: Piece, needs: bool) -> list[Piece]:
    return [r"\left(", piece, r"\right)"] if needs else [piece]


_LATEX_CONSTANTS = {
    "pi": r"\pi", "sqrt(2)": r"\sqrt{2}", "sqrt(pi)": r"\sqrt{\pi}",
    "log(2)": r"\log 2", "log(10)": r"\log 10",
}  # fmt: skip


def _latex_constant(text: str) -> str:
    r"""``-2*pi/3`` → ``-\frac{2 \pi}{3}``: the text of ``constant`` in LaTeX."""
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    if "/" not in text:
        factors = text.split("*")
        return sign + " ".join(_LATEX_CONSTANTS.get(f, f) for f in factors)
    top, bottom = text.split("/", 1)
    if bottom.startswith("("):
        bottom = bottom[1:-1]
    top, bottom = _latex_constant(top), _latex_constant(bottom)
    return rf"{sign}\frac{{{top}}}{{{bottom}}}"


def _latex_name(name: str) -> str:
    """``t1`` → ``t_{1}``, ``theta``-like Greek names stay as typed."""
    head = name.rstrip("0123456789")
    return f"{head}_{{{name[len(head) :]}}}" if head and head != name else name


@without_gc
def latex_program(g: Graph, roots: list[int], names, order: int, cse: bool) -> list[str]:
    """LaTeX lines: shared parts ``t_{1} = ...`` (with ``cse``), then ∂ⁿf/∂vⁿ = ... per root."""
    labels = shared_labels(g, roots) if cse else {}
    if cse:
        texts = to_texts(g, [*labels, *roots], labels=labels, latex=True)
    else:
        texts = dict(zip(roots, one_line(g, roots, latex=True)))
    lines = [f"{_latex_name(labels[n])} = {texts[n]}" for n in labels]
    power = "" if order == 1 else f"^{{{order}}}"
    for name, root in zip(names, roots):
        head = rf"\frac{{\partial{power} f}}{{\partial {_latex_name(name)}{power}}}"
        lines.append(f"{head} = {texts[root]}")
    return lines
