"""Graph → text in adcli's own syntax, with parentheses only where precedence needs them."""

from __future__ import annotations

import math

from .graph import CONST, VAR, Graph
from .ops import OPS, PREC_ATOM, PREC_MUL, PREC_NEG, PREC_POW


def number(value: float) -> str:
    """A constant as a person writes it: ``2``, ``0.5``, ``pi``."""
    if value == math.pi:
        return "pi"
    if value == math.e:
        return "e"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _wrap(text: str, needs: bool) -> str:
    return f"({text})" if needs else text


def to_text(
    g: Graph,
    root: int,
    names: bool = False,
    limit: int | None = None,
    labels: dict[int, str] | None = None,
) -> str:
    """Print ``root`` as a formula; ``names`` prints labelled nodes by their label,
    ``labels`` prints the nodes it names by those names (shared subexpressions).

    Iterative over the nodes below ``root``; with ``limit``, subexpressions longer
    than it are cut to ``…`` so labels of huge graphs cost linear time.
    """
    needed = g.ancestors([root])
    text: dict[int, tuple[str, int]] = {}
    for n in range(root + 1):
        if not needed[n]:
            continue
        op = g.op[n]
        if op == CONST:
            t = number(g.value[n])
            text[n] = (t, PREC_NEG if t.startswith("-") else PREC_ATOM)
            continue
        if op == VAR or (names and n != root and g.label[n] is not None):
            text[n] = (g.label[n], PREC_ATOM)
            continue
        if labels and n != root and n in labels:
            text[n] = (labels[n], PREC_ATOM)
            continue
        spec = OPS[op]
        parts = [text[a] for a in g.args[n]]
        if spec.symbol is None:
            t = f"{op}({', '.join(p[0] for p in parts)})"
            prec = PREC_ATOM
        elif spec.arity == 1:
            (a, pa), prec = parts[0], spec.precedence
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
        if limit is not None and len(t) > limit:
            t = t[: limit - 1] + "…"
        text[n] = (t, prec)
    return text[root][0]


def shared_labels(g: Graph, roots: list[int]) -> dict[int, str]:
    """Names ``t1, t2, …`` for the operations the roots use more than once, in order,
    skipping names the expression already uses for its variables."""
    needed = g.ancestors(roots)
    uses = [0] * len(needed)
    for n in range(len(needed)):
        if needed[n]:
            for a in set(g.args[n]):
                uses[a] += 1
    taken = set(g.variables)
    labels: dict[int, str] = {}
    k = 0
    for n in range(len(needed)):
        if needed[n] and uses[n] > 1 and g.op[n] not in (CONST, VAR) and n not in roots:
            k += 1
            while f"t{k}" in taken:
                k += 1
            labels[n] = f"t{k}"
    return labels


def to_program(g: Graph, roots: list[int], cse: bool | None = None) -> tuple[list[str], list[str]]:
    """The roots as formulas, with shared subexpressions named ``t1 = ...`` first.

    ``cse`` True names every non-trivial node used more than once, False names
    none, None (auto) names them only when that makes the whole text shorter.
    Returns the statements and one formula per root.
    """
    plain = [to_text(g, r) for r in roots]
    if cse is False:
        return [], plain
    labels = shared_labels(g, roots)
    statements = [f"{labels[n]} = {to_text(g, n, labels=labels)}" for n in labels]
    shared = [to_text(g, r, labels=labels) for r in roots]
    if cse is None and sum(map(len, statements + shared)) >= sum(map(len, plain)):
        return [], plain
    return statements, shared


_LATEX_FUNCTIONS = {
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "log", "arcsin", "arccos", "arctan",
}  # fmt: skip
_LATEX_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}


def to_latex(g: Graph, root: int, labels: dict[int, str] | None = None) -> str:
    """``root`` as LaTeX: ``\\frac`` for quotients, superscripts for powers."""
    needed = g.ancestors([root])
    text: dict[int, tuple[str, int]] = {}
    for n in range(root + 1):
        if not needed[n]:
            continue
        op = g.op[n]
        if op == CONST:
            t = {"pi": r"\pi"}.get(number(g.value[n]), number(g.value[n]))
            text[n] = (t, PREC_NEG if t.startswith("-") else PREC_ATOM)
            continue
        if op == VAR or (labels and n != root and n in labels):
            name = g.label[n] if op == VAR else labels[n]
            text[n] = (_latex_name(name), PREC_ATOM)
            continue
        parts = [text[a] for a in g.args[n]]
        spec = OPS[op]
        if op == "div":
            t, prec = rf"\frac{{{parts[0][0]}}}{{{parts[1][0]}}}", PREC_ATOM
        elif op == "pow":
            (a, pa), (b, _) = parts
            base = rf"\left({a}\right)" if pa <= PREC_POW else a
            t, prec = f"{{{base}}}^{{{b}}}", PREC_POW
        elif op == "sqrt":
            t, prec = rf"\sqrt{{{parts[0][0]}}}", PREC_ATOM
        elif op == "abs":
            t, prec = rf"\left|{parts[0][0]}\right|", PREC_ATOM
        elif spec.symbol is None:
            name = _LATEX_NAMES.get(op, op)
            head = f"\\{name}" if name in _LATEX_FUNCTIONS else rf"\operatorname{{{name}}}"
            t = head + r"\left(" + ", ".join(p[0] for p in parts) + r"\right)"
            prec = PREC_ATOM
        elif spec.arity == 1:
            (a, pa), prec = parts[0], spec.precedence
            t = "-" + (rf"\left({a}\right)" if pa < PREC_NEG else a)
        else:
            (a, pa), (b, pb), prec = parts[0], parts[1], spec.precedence
            left = rf"\left({a}\right)" if pa < prec else a
            right = rf"\left({b}\right)" if pb <= prec else b
            t = f"{left} {spec.latex or spec.symbol} {right}"
        text[n] = (t, prec)
    return text[root][0]


def _latex_name(name: str) -> str:
    """``t1`` → ``t_{1}``, ``theta``-like Greek names stay as typed."""
    head = name.rstrip("0123456789")
    return f"{head}_{{{name[len(head) :]}}}" if head and head != name else name


def latex_program(g: Graph, roots: list[int], names, order: int, cse: bool | None) -> list[str]:
    """LaTeX lines: shared parts ``t_{1} = ...`` (with ``cse``), then ∂ⁿf/∂vⁿ = ... per root."""
    labels = shared_labels(g, roots) if cse else {}
    lines = [f"{_latex_name(labels[n])} = {to_latex(g, n, labels)}" for n in labels]
    power = "" if order == 1 else f"^{{{order}}}"
    for name, root in zip(names, roots):
        head = rf"\frac{{\partial{power} f}}{{\partial {_latex_name(name)}{power}}}"
        lines.append(f"{head} = {to_latex(g, root, labels)}")
    return lines
