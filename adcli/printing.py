"""Graph → text in adcli's own syntax, with parentheses only where precedence needs them."""

from __future__ import annotations

import functools
import math

from .errors import UsageError
from .graph import CONST, VAR, Graph, without_gc
from .ops import OPS, PREC_ATOM, PREC_MUL, PREC_NEG, PREC_POW


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


def _wrap(text: str, needs: bool) -> str:
    return f"({text})" if needs else text


class TooLong(Exception):
    """The formula is longer than the budget ``to_text`` was given."""


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

    With ``limit``, subexpressions longer than it are cut to ``…`` so labels of huge
    graphs cost linear time. A graph printed without names can be exponentially
    longer than itself: past ``budget`` characters this raises ``TooLong``.
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
    """The full text (or ``latex``) of each output node, in one pass over the nodes
    below them (not below a node printed by its name), iterative; a subexpression's
    text is dropped once its last user is printed."""
    name = _latex_name if latex else str
    top = max(outputs)
    wanted = set(outputs)
    needed = [False] * (top + 1)
    users = [0] * (top + 1)
    for n in outputs:
        needed[n] = True
    for n in range(top, -1, -1):
        by_name = names and g.label[n] is not None
        if needed[n] and g.op[n] != VAR and (n in wanted or not by_name):
            for a in g.args[n]:
                needed[a] = True
                users[a] += 1
    result: dict[int, str] = {}
    text: dict[int, tuple[str, int]] = {}
    for n in range(top + 1):
        if not needed[n]:
            continue
        op = g.op[n]
        if op == CONST:
            t, prec = constant(g.value[n])
            if latex:
                t = _latex_constant(t)
                prec = PREC_NEG if t.startswith("-") else PREC_ATOM
            text[n] = (t, prec)
        elif op == VAR or (names and n not in wanted and g.label[n] is not None):
            text[n] = (name(g.label[n]), PREC_ATOM)
        else:
            parts = [text[a] for a in g.args[n]]
            t, prec = _latex_operation(g, n, parts) if latex else _operation(g, n, parts)
            if limit is not None and len(t) > limit:
                t = t[: limit - 1] + "…"
            if budget is not None and len(t) > budget:
                raise TooLong
            text[n] = (t, prec)
            for a in g.args[n]:
                users[a] -= 1
                if not users[a]:
                    del text[a]
        if n in wanted:
            result[n] = text[n][0]
        if labels and n in labels:
            text[n] = (name(labels[n]), PREC_ATOM)
    return result


def _operation(g: Graph, n: int, parts) -> tuple[str, int]:
    """The text and precedence of operation ``n`` from its inputs' texts."""
    op = g.op[n]
    spec = OPS[op]
    if spec.symbol is None:
        t = f"{op}({', '.join(p[0] for p in parts)})"
        prec = PREC_ATOM
    elif spec.arity == 1:
        (a, pa), prec = parts[0], spec.precedence
        if pa == PREC_MUL and not a.startswith("-"):
            # -(a*b) as -a*b: negation is exact, so (-a)*b is the same float
            t, prec = "-" + a, PREC_MUL
        else:
            t = "-" + _wrap(a, pa < PREC_NEG)
    else:
        (a, pa), (b, pb), prec = parts[0], parts[1], spec.precedence
        if prec == PREC_POW:
            left = _wrap(a, pa <= PREC_POW)
            right = _wrap(b, pb < PREC_NEG)
        else:
            left = _wrap(a, pa < prec)
            right = _wrap(b, pb <= prec)
        sep = spec.symbol if prec == PREC_POW else f" {spec.symbol} "
        if prec == PREC_MUL:
            sep = spec.symbol
        t = left + sep + right
    return t, prec


def shared_labels(g: Graph, roots: list[int]) -> dict[int, str]:
    """Names ``t1, t2, …`` for the operations the roots use more than once, in order,
    skipping names the expression already uses for its variables."""
    uses = g.uses(roots)
    taken = set(g.variables)
    labels: dict[int, str] = {}
    k = 0
    for n in range(len(uses)):
        if uses[n] > 1 and g.op[n] not in (CONST, VAR) and n not in roots:
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
    Returns the statements and one formula per root. The named form is printed
    first: it is linear in the graph, and bounds how long the plain form may get.
    """
    if cse is False:
        return [], one_line(g, roots)
    labels = shared_labels(g, roots)
    texts = to_texts(g, [*labels, *roots], labels=labels)
    statements = [f"{labels[n]} = {texts[n]}" for n in labels]
    shared = [texts[r] for r in roots]
    if cse is None:
        length = sum(map(len, statements + shared))
        try:
            plain = [to_text(g, r, budget=length) for r in roots]
        except TooLong:
            return statements, shared
        if sum(map(len, plain)) <= length:
            return [], plain
    return statements, shared


def one_line(g: Graph, roots: list[int], latex: bool = False) -> list[str]:
    """The roots without names, each on one line, if that stays under ``MAX_LINE``."""
    try:
        texts = to_texts(g, roots, budget=MAX_LINE, latex=latex)
    except TooLong:
        raise UsageError(
            f"the formula is longer than {MAX_LINE:,} characters on one line",
            "drop --no-cse to name its shared parts t1, t2, ...",
        ) from None
    return [texts[r] for r in roots]


def program_text(g: Graph, roots: list[int]) -> str:
    """The roots as one program that parses back: ``t1 = ...`` lines when shorter."""
    statements, formulas = to_program(g, roots)
    return "\n".join([*statements, ", ".join(formulas)])


_LATEX_FUNCTIONS = {
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "log", "arcsin", "arccos", "arctan",
}  # fmt: skip
_LATEX_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}


def _latex_operation(g: Graph, n: int, parts) -> tuple[str, int]:
    op = g.op[n]
    spec = OPS[op]
    if op == "div":
        return rf"\frac{{{parts[0][0]}}}{{{parts[1][0]}}}", PREC_ATOM
    if op == "pow":
        (a, pa), (b, _) = parts
        base = rf"\left({a}\right)" if pa <= PREC_POW else a
        return f"{{{base}}}^{{{b}}}", PREC_POW
    if op == "sqrt":
        return rf"\sqrt{{{parts[0][0]}}}", PREC_ATOM
    if op == "abs":
        return rf"\left|{parts[0][0]}\right|", PREC_ATOM
    if spec.symbol is None:
        name = _LATEX_NAMES.get(op, op)
        head = f"\\{name}" if name in _LATEX_FUNCTIONS else rf"\operatorname{{{name}}}"
        return head + r"\left(" + ", ".join(p[0] for p in parts) + r"\right)", PREC_ATOM
    if spec.arity == 1:
        (a, pa), prec = parts[0], spec.precedence
        return "-" + (rf"\left({a}\right)" if pa < PREC_NEG else a), prec
    (a, pa), (b, pb), prec = parts[0], parts[1], spec.precedence
    left = rf"\left({a}\right)" if pa < prec else a
    right = rf"\left({b}\right)" if pb <= prec else b
    return f"{left} {spec.latex or spec.symbol} {right}", prec


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
