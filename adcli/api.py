"""The ``Expression`` façade: what a script, and every CLI command, works with."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .autodiff import Gradient, Tangents, forward, reverse, tangents_of
from .errors import BindingError, EvaluationError, UsageError, no_value, not_a_variable
from .evaluate import Compiled
from .graph import CONST, VAR, without_gc
from .ops import OPS
from .syntax import Program, parse


@without_gc
def compile(text: str) -> Expression:  # noqa: A001 - the name SPEC §6 gives
    """Parse ``text`` into an expression that can be evaluated and differentiated."""
    return Expression(parse(text))


class NodeRow:
    """One row of the per-node table: a forward node with its value and adjoint."""

    def __init__(self, number, node, label, op, inputs, value, partials, adjoint, terms, status):
        self.number: int = number
        self.node: int = node
        self.label: str = label
        self.op: str = op
        self.inputs: list[str] = inputs  # "#3" for a node, the text of a folded constant
        self.value: float = value
        self.partials: list[float | None] = partials  # ∂node/∂input; None: constant input
        self.adjoint: float | None = adjoint  # None: not on a path to the output
        # (consumer's number, contribution) summed into the adjoint
        self.terms: list[tuple[int, float]] = terms
        self.status: str = status  # "" | "unused" | "no wrt"


class Derivatives:
    """Derivatives as formulas: shared parts ``t1 = ...`` (when they make it shorter,
    or as ``cse`` says) and one formula per variable."""

    def __init__(self, graph, roots: list[int], names, order: int, cse: bool | None) -> None:
        from .printing import to_program

        self.graph, self.roots, self.names, self.order = graph, roots, tuple(names), order
        self.statements, self.formulas = to_program(graph, roots, cse) if roots else ([], [])

    def lines(self) -> list[str]:
        """The shared parts, then ``d/dx: formula`` per variable (no prefix for one);
        ``0`` for an expression without variables."""
        if not self.names:
            return ["0"]
        power = "" if self.order == 1 else str(self.order)
        prefix = [f"d{power}/d{n}{power}: " for n in self.names] if len(self.names) > 1 else [""]
        return [*self.statements, *(p + f for p, f in zip(prefix, self.formulas))]

    def as_dict(self) -> dict[str, Any]:
        """``{"let": [...], "x": "formula", ...}`` (``let`` only with shared parts)."""
        result: dict[str, Any] = {"let": self.statements} if self.statements else {}
        return {**result, **dict(zip(self.names, self.formulas))}

    def latex(self) -> list[str]:
        from .printing import latex_program

        if not self.names:
            return ["0"]
        return latex_program(self.graph, self.roots, self.names, self.order,
                             bool(self.statements))  # fmt: skip


class Expression:
    """A compiled expression: values, gradients and the per-node table."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.graph = program.graph
        self.outputs = program.outputs
        self.n_forward = len(self.graph)  # later nodes belong to derivatives
        # One cache per transform, so that no variable's name can collide with
        # another cache's key (a variable named ``tangents`` once did).
        self._compiled: dict[tuple[int, ...], Compiled] = {}
        self._reverse: dict[tuple[str, ...] | None, Gradient] = {}  # None: every variable
        self._hessians: dict[tuple[str, ...], list[list[int]]] = {}
        self._tangents: dict[str, Tangents] = {}
        self._jacobian: list[list[int]] | None = None

    # --- what it is -----------------------------------------------------------

    @property
    def variables(self) -> tuple[str, ...]:
        return self.program.variables

    @property
    def text(self) -> str:
        return self.program.text

    @property
    def warnings(self) -> list[str]:
        """What is legal but probably a mistake: an assignment that nothing reads."""
        return self.program.warnings

    def _params(self) -> list[int]:
        return list(self.graph.variables.values())

    def _single_output(self, command: str) -> int:
        if len(self.outputs) != 1:
            raise UsageError(
                f"{command} needs one output, this expression has {len(self.outputs)}",
                "give a single expression, or use eval/jacobian for several outputs",
            )
        return self.outputs[0]

    def wrt(self, names: Sequence[str] | None) -> tuple[str, ...]:
        """Check a ``--wrt`` list against the variables; default: all of them."""
        if names is None:
            return self.variables
        names = tuple(n.strip() for n in names)
        for name in names:
            if not name:
                raise UsageError("--wrt has an empty name", "list variables: --wrt x,y")
            if name not in self.graph.variables:
                raise not_a_variable(name, self.variables)
            if names.count(name) > 1:
                raise UsageError(f"--wrt names {name} twice")
        return names

    @without_gc
    def gradient(self, wrt: Sequence[str] | None = None) -> Gradient:
        found = self._reverse.get(wrt if wrt is None else tuple(wrt))
        if found is not None:
            return found
        names = self.wrt(wrt)
        if names not in self._reverse:
            output = self._single_output("grad")
            variables = [self.graph.variables[n] for n in names]
            grad = reverse(self.graph, output, variables)
            grad.nodes = [grad.output, *grad.grads(self.graph)]  # the value, then ∂f/∂wrt
            self._reverse[names] = grad
        self._reverse[wrt if wrt is None else tuple(wrt)] = self._reverse[names]
        return self._reverse[names]

    @without_gc
    def compiled(self, outputs: Sequence[int]) -> Compiled:
        key = tuple(outputs)
        if key not in self._compiled:
            self._compiled[key] = Compiled(self.graph, self._params(), key)
        return self._compiled[key]

    def value_and_grad_nodes(self, wrt: Sequence[str] | None = None) -> list[int]:
        return self.gradient(wrt).nodes

    @without_gc
    def hessian_nodes(self, wrt: Sequence[str] | None = None) -> list[list[int]]:
        """Second derivatives, reverse over reverse: each gradient node differentiated again."""
        names = self.wrt(wrt)
        if names not in self._hessians:
            g = self.graph
            variables = [g.variables[n] for n in names]
            rows = [reverse(g, d, variables).grads(g) for d in self.gradient(names).grads(g)]
            self._hessians[names] = rows
        return self._hessians[names]

    @without_gc
    def tangents(self, name: str) -> Tangents:
        """Forward mode: the tangent of every node along the variable ``name``."""
        if name not in self._tangents:
            g = self.graph
            self._tangents[name] = forward(g, self.outputs, g.variables[name])
        return self._tangents[name]

    def jacobian_nodes(self, mode: str = "reverse") -> list[list[int]]:
        """∂output_i/∂variable_j as nodes: one reverse sweep per output, or one
        forward sweep per variable. ``auto`` takes forward when inputs < outputs."""
        if mode == "auto":
            mode = "forward" if len(self.variables) < len(self.outputs) else "reverse"
        g = self.graph
        if mode == "forward":
            columns = [tangents_of(self.tangents(v), g, self.outputs) for v in self.variables]
            return [[col[i] for col in columns] for i in range(len(self.outputs))]
        variables = [g.variables[v] for v in self.variables]
        if self._jacobian is None:
            self._jacobian = [reverse(g, o, variables).grads(g) for o in self.outputs]
        return self._jacobian

    def jacobian(self, point: Sequence[float], mode: str = "reverse") -> list[list[float]]:
        """∂output_i/∂variable_j at a point given in the order of ``variables``."""
        if mode not in ("forward", "reverse", "auto"):
            raise UsageError(f"unknown mode {mode!r}", "choose forward, reverse or auto")
        rows = self.jacobian_nodes(mode)
        flat = self.compiled([n for row in rows for n in row]).scalar(*self.point(point))
        width = len(self.variables)
        return [list(flat[i * width : (i + 1) * width]) for i in range(len(rows))]

    def forward_value_and_grad_nodes(self, wrt: Sequence[str] | None = None) -> list[int]:
        """Like ``value_and_grad_nodes``, each partial from its own forward sweep."""
        output = self._single_output("grad")
        g = self.graph
        return [output, *(tangents_of(self.tangents(v), g, [output])[0] for v in self.wrt(wrt))]

    @without_gc
    def derivative_nodes(self, names: Sequence[str], order: int = 1) -> list[int]:
        """∂ⁿf/∂vⁿ for each variable v of ``names``, as nodes of this graph."""
        output = self._single_output("diff")
        g = self.graph
        roots = []
        for name in self.wrt(names):
            node = output
            for _ in range(order):
                node = reverse(g, node, [g.variables[name]]).grads(g)[0]
            roots.append(node)
        return roots

    def derivatives(
        self, wrt: Sequence[str] | None = None, order: int = 1, cse: bool | None = None
    ) -> Derivatives:
        """∂ⁿf/∂vⁿ for each variable v of ``wrt`` (default: all), simplified, as
        formulas that parse back (``adcli diff``)."""
        from .simplify import simplified

        names = self.wrt(wrt)
        graph, roots = simplified(self.graph, self.derivative_nodes(names, order))
        return Derivatives(graph, roots, names, order, cse)

    def derivative(self, name: str, order: int = 1) -> Expression:
        """The derivative as another expression: printable, evaluable, differentiable."""
        from .printing import program_text
        from .simplify import simplified

        graph, (root,) = simplified(self.graph, self.derivative_nodes([name], order))
        return Expression(Program(program_text(graph, [root]), graph, [root]))

    def __str__(self) -> str:
        from .printing import program_text

        return program_text(self.graph, self.outputs)

    def hessian(self, point: Sequence[float], wrt: Sequence[str] | None = None):
        """The Hessian matrix at a point given in the order of the variables."""
        rows = self.hessian_nodes(wrt)
        flat = self.compiled([n for row in rows for n in row]).scalar(*self.point(point))
        width = len(rows)
        return [list(flat[i * width : (i + 1) * width]) for i in range(width)]

    def hessian_at(self, point: Sequence[float]):
        """The Hessian at a point, its eigenvalues and the kind of point (``PointKind``):
        a minimum, maximum or saddle only where the gradient is zero."""
        from .optimize import PointKind, eigenvalues

        point = self.point(point)
        matrix = self.hessian(point)
        value, *grad = self.compiled(self.value_and_grad_nodes()).scalar(*point)
        norm = math.hypot(*grad) if grad else 0.0
        return matrix, PointKind(eigenvalues(matrix), value, norm)

    def check_minimizable(self) -> None:
        """One output and at least one variable, or a ``UsageError`` saying why not."""
        self._single_output("minimize")
        if not self.variables:
            raise UsageError(
                "there is nothing to minimize: the expression has no variables",
                "write a formula of a variable, e.g. (x - 3)**2",
            )

    def minimize(self, start: dict[str, float] | Sequence[float] | float, **options: Any):
        """Gradient descent from ``start``; see ``adcli.optimize.descend`` for options."""
        from .optimize import descend, diagnose

        self.check_minimizable()
        point = self.bind(start) if isinstance(start, dict) else self.point(start)
        run = descend(self.compiled(self.value_and_grad_nodes()), point, **options)
        run.diagnosis = diagnose(run, self.hessian, self.variables)
        return run

    # --- binding points -------------------------------------------------------

    def bind(self, bindings: dict[str, Any], args: Sequence[Any] = ()) -> list[Any]:
        """Values in the order of the variables, from positional ``args`` (in that
        order) and keyword ``bindings``; name what is missing, extra or not a number.
        Numbers become floats; arrays (numpy, lists) stay arrays."""
        variables = self.variables
        if len(args) > len(variables):
            listed = ", ".join(variables) or "none"
            raise BindingError(f"{len(args)} values given for {len(variables)} variable(s) "
                               f"({listed})")  # fmt: skip
        bound = dict(zip(variables, args))
        for name, value in bindings.items():
            if name not in self.graph.variables:
                raise not_a_variable(name, variables)
            if name in bound:
                raise BindingError(f"{name} is given twice: by position and by name")
            bound[name] = value
        for name in variables:
            if name not in bound:
                raise no_value(name)
        return [_number_or_array(name, bound[name]) for name in variables]

    def point(self, point: Sequence[float]) -> list[float]:
        """One point given as a sequence in the order of the variables, as floats."""
        if isinstance(point, (str, bytes)) or not hasattr(point, "__len__"):
            if len(self.variables) == 1:
                point = [point]
            else:
                raise BindingError(f"a point is a list of {len(self.variables)} numbers, in "
                                   f"the order {', '.join(self.variables) or '()'}")  # fmt: skip
        values = self.bind({}, list(point))
        if any(not isinstance(v, float) for v in values):
            raise BindingError("this takes one point: numbers, not arrays")
        return values

    def _run(self, outputs: list[int], args: Sequence[Any], bindings: dict[str, Any]):
        compiled = self.compiled(outputs)
        if not args and len(bindings) == len(self.variables):  # the common call: f(x=2.0)
            try:
                values = [bindings[v] for v in self.variables]
            except KeyError:
                pass
            else:
                if all(v.__class__ is float for v in values):
                    return list(compiled.scalar(*values))
        values = self.bind(bindings, args)
        if all(isinstance(v, float) for v in values):
            return list(compiled.scalar(*values))
        try:
            return compiled.batch(*values)
        except ValueError as e:  # numpy: shapes that do not broadcast
            shapes = ", ".join(f"{n} {getattr(v, 'shape', ())}" for n, v in
                               zip(self.variables, values))  # fmt: skip
            raise BindingError(f"the arrays do not broadcast together: {shapes}") from e

    # --- the public API -------------------------------------------------------

    def __call__(self, /, *args: Any, **bindings: Any) -> Any:
        """The value at a point: ``f(2.0)`` (values in the order of ``variables``),
        ``f(x=2.0)``, or arrays of points (numpy broadcasting). A tuple of values for
        several outputs. Floats in, a float out; arrays in, arrays out."""
        values = self._run(self.outputs, args, bindings)
        return values[0] if len(values) == 1 else tuple(values)

    def grad(self, /, *args: Any, **bindings: Any) -> tuple[Any, dict[str, Any]]:
        """``(value, {variable: ∂f/∂variable})`` at a point or at arrays of points.

        ``f.grad(2.0)`` or ``f.grad(x=2.0)``; a first argument that is a list of names
        (or one name) differentiates with respect to those only:
        ``f.grad(["x"], x=1.0, y=2.0)``. Any name may be a variable, ``wrt`` too.
        """
        wrt = None
        if args and (isinstance(args[0], str) or _names(args[0])):
            wrt, args = ([args[0]] if isinstance(args[0], str) else args[0]), args[1:]
        grad = self.gradient(wrt)
        names = self.wrt(wrt) if wrt is not None else self.variables
        values = self._run(grad.nodes, args, bindings)
        return values[0], dict(zip(names, values[1:]))

    # --- the per-node table and the node that went wrong ----------------------

    def check(
        self,
        point: Sequence[float],
        method: str = "central",
        eps: float | None = None,
        tol: float | None = None,
    ):
        """The AD gradient beside central differences or the complex step (``adcli check``)."""
        from .check import check

        self._single_output("check")
        return check(self, self.point(point), method, eps, tol)

    @property
    def numbers(self) -> dict[int, int]:
        """The row number of each forward node: variables first, then in forward order."""
        if not hasattr(self, "_numbers"):
            g = self.graph
            forward = [n for n in range(self.n_forward) if g.op[n] != CONST]
            forward.sort(key=lambda n: g.op[n] != VAR)  # stable: forward order otherwise
            self._numbers = {n: i + 1 for i, n in enumerate(forward)}
        return self._numbers

    def node_table(self, point: list[float], wrt: Sequence[str] | None = None) -> list[NodeRow]:
        """Values, local partials and adjoints of every forward node at one point."""
        g = self.graph
        grad = self.gradient(wrt)
        number = self.numbers
        wanted = list(number)
        wanted += list(grad.adjoint.values()) + list(grad.partial.values())
        wanted += [t for terms in grad.contributions.values() for _, t in terms]
        values = dict(zip(wanted, self.compiled(wanted).scalar(*point)))
        needed = g.ancestors([grad.output])
        rows = []
        for n in number:
            args = g.args[n]
            inputs = self.inputs_text(n)
            partials = [
                values[grad.partial[(n, i)]] if (n, i) in grad.partial else None
                for i in range(len(args))
            ]
            adjoint = values[grad.adjoint[n]] if n in grad.adjoint else None
            terms = [(number[c], values[t]) for c, t in grad.contributions.get(n, [])]
            status = "" if grad.active[n] else "unused" if not needed[n] else "no wrt"
            if g.op[n] == VAR and needed[n] and n not in grad.wrt:
                status = "no wrt"
            row = [number[n], n, self.label(n), g.op[n], inputs, values[n], partials, adjoint]
            rows.append(NodeRow(*row, terms, status))
        return rows

    def inputs_text(self, node: int) -> list[str]:
        """A node's inputs as the tables show them: ``#3``, or a constant's value."""
        number = self.numbers
        return [f"#{number[a]}" if a in number else _short(self.graph.value[a])
                for a in self.graph.args[node]]  # fmt: skip

    def tangent_table(self, point: list[float], wrt: Sequence[str] | None = None) -> list[NodeRow]:
        """Forward mode's trace: each node's value, local partials and one tangent per
        variable (``NodeRow.terms`` holds ``(variable, tangent)``)."""
        g = self.graph
        names = self.wrt(wrt)
        sweeps = [self.tangents(v) for v in names]
        number = self.numbers
        wanted = list(number)
        for t in sweeps:
            wanted += list(t.tangent.values()) + list(t.partial.values())
        values = dict(zip(wanted, self.compiled(wanted).scalar(*point)))
        rows = []
        for n in number:
            args = g.args[n]
            inputs = self.inputs_text(n)
            partials = [None] * len(args)
            for t in sweeps:
                for i in range(len(args)):
                    if (n, i) in t.partial:
                        partials[i] = values[t.partial[(n, i)]]
            terms = [
                (v, values[t.tangent[n]] if n in t.tangent else 0.0) for v, t in zip(names, sweeps)
            ]
            row = [number[n], n, self.label(n), g.op[n], inputs, values[n], partials, None]
            rows.append(NodeRow(*row, terms, ""))
        return rows

    def explain(self, point: list[float], wrt=None, mode: str = "reverse") -> list[str]:
        """The chain rule edge by edge, in the order the sweep applies it."""
        g = self.graph
        number = self.numbers
        names = self.wrt(wrt)
        lines = []
        if mode == "forward":
            for name in names:
                t = self.tangents(name)
                nodes = [*t.tangent.values(), *t.partial.values()]
                values = dict(zip(nodes, self.compiled(nodes).scalar(*point)))
                for n in number:
                    edges = [(i, a) for i, a in enumerate(g.args[n]) if (n, i) in t.partial]
                    sign = "+=" if len(edges) > 1 else "="
                    for i, a in edges:
                        p, ta = values[t.partial[(n, i)]], values[t.tangent[a]]
                        lines.append(
                            f"∂#{number[n]}/∂{name} {sign} ∂#{number[n]}/∂#{number[a]} · "
                            f"∂#{number[a]}/∂{name} = {p:.6g} · {ta:.6g} = {p * ta:.6g}"
                        )
            return lines
        grad = self.gradient(names)
        nodes = [*grad.adjoint.values(), *grad.partial.values()]
        nodes += [term for terms in grad.contributions.values() for _, term in terms]
        values = dict(zip(nodes, self.compiled(nodes).scalar(*point)))
        for n in sorted(number, key=number.get, reverse=True):  # the backward sweep
            for i, a in enumerate(g.args[n]):
                if (n, i) not in grad.partial:
                    continue
                adj, p = values[grad.adjoint[n]], values[grad.partial[(n, i)]]
                sign = "+=" if len(grad.contributions[a]) > 1 else "="
                lines.append(
                    f"∂f/∂#{number[a]} {sign} ∂f/∂#{number[n]} · ∂#{number[n]}/∂#{number[a]}"
                    f" = {adj:.6g} · {p:.6g} = {adj * p:.6g}"
                )
        return lines

    def label(self, node: int, width: int = 28) -> str:
        """The node as the tables name it: its label, or its formula cut to ``width``
        characters. One printer per expression keeps every node's cut text, so a
        table's labels cost O(width) each, not a print of each node's subgraph."""
        g = self.graph
        if g.label[node] is not None:
            return " = ".join([g.label[node], *g.aliases.get(node, [])])
        if not hasattr(self, "_labels"):
            from .printing import Labels

            self._labels = Labels(g)
        return self._labels(node, width)

    def check_finite(self, point: list[float], values: Sequence[float], wrt=None) -> None:
        """Raise an ``EvaluationError`` naming the node that first went non-finite."""
        if all(math.isfinite(v) for v in values):
            return
        raise EvaluationError(self.culprit(point, wrt))

    def culprit(self, point: list[float], wrt: Sequence[str] | None = None) -> str:
        """Name the first node that went non-finite (its inputs were finite) and why.

        With ``wrt`` (a ``grad``), the backward pass is searched too; ``eval``
        passes None and never differentiates just to word a message.
        """
        g = self.graph
        grad = self.gradient(wrt) if wrt is not None else None
        roots = list(self.outputs) + (self.value_and_grad_nodes(wrt) if grad else [])
        needed = g.ancestors(roots)
        nodes = [n for n in range(len(needed)) if needed[n] and g.op[n] != CONST]
        values = dict(zip(nodes, self.compiled(nodes).scalar(*point)))
        bound = ", ".join(f"{v}={_short(x)}" for v, x in zip(self.variables, point))
        where = f"at {bound}" if bound else "here"
        for n in range(len(needed)):
            if not needed[n]:
                continue
            if g.op[n] == CONST:
                if not math.isfinite(g.value[n]):  # a literal or a folded constant part
                    what = "beyond the range of a float (±1.8e308)"
                    if math.isnan(g.value[n]):
                        what = "its parts are beyond the range of a float"
                    return f"a constant in the expression is {_short(g.value[n])}: {what}"
                continue
            value = values[n]
            if math.isfinite(value):
                continue
            if g.op[n] == VAR:
                return f"the input {g.label[n]} is {_short(value)} {where}"
            ins = [values.get(a, g.value[a]) for a in g.args[n]]
            if not all(math.isfinite(x) for x in ins):
                continue
            reason = OPS[g.op[n]].why(*ins)
            reason = reason or ("overflow" if math.isinf(value) else "undefined result")
            if grad is None or n < self.n_forward:
                node = f"node #{self.numbers[n]} {self.label(n, 60)}"
                return f"{node} is {_short(value)} {where}: {reason}"
            return self._backward_culprit(n, grad, values, reason, where)
        return f"a non-finite value {where}"

    def _backward_culprit(self, n: int, grad: Gradient, values, reason: str, where: str) -> str:
        """A backward-pass node went non-finite: name the adjoint it spoiled and the rule."""
        g = self.graph
        source, kind, i = grad.origin.get(n, (grad.output, "sum", -1))
        target = g.args[source][i] if i >= 0 else source
        spoiled = values.get(grad.adjoint.get(target, n), values[n])
        adjoint = f"∂f/∂node #{self.numbers[target]} {self.label(target, 60)}"
        if kind == "partial":
            shown = ", ".join(_short(values.get(a, g.value[a])) for a in g.args[source])
            size = "infinite" if math.isinf(values[n]) else "undefined"
            reason = f"{g.op[source]}'({shown}) is {size}"
            if target != source:
                reason += f" (node #{self.numbers[source]} {self.label(source, 60)})"
            inputs = (values.get(a, g.value[a]) for a in g.args[source])
            detail = OPS[g.op[source]].why_partial(*inputs)
            reason += f": {detail}" if detail else ""
        else:
            reason += " in the chain rule"
        return f"{adjoint} is {_short(spoiled)} {where}: {reason}"


def _names(value: Any) -> bool:
    """A non-empty list or tuple of strings: a ``wrt`` list, not a point."""
    return (
        isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, str) for v in value)
    )


def _number_or_array(name: str, value: Any) -> Any:
    """A binding as a float (Python and numpy scalars) or a float array; anything
    else is the caller's mistake, said as an ``AdcliError``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, complex):
        raise BindingError(f"{name} is complex; adcli computes with real numbers")
    if hasattr(value, "dtype") or isinstance(value, (list, tuple)):
        import numpy as np

        try:
            array = np.asarray(value)
        except ValueError:  # a ragged list
            array = np.asarray([], dtype=object)
        if array.dtype.kind in "biuf" and array.dtype.kind != "b":
            if isinstance(value, np.generic):
                return float(value)
            return array.astype(np.float64, copy=False)
        if array.dtype.kind == "c":
            raise BindingError(f"{name} is complex; adcli computes with real numbers")
    shown = repr(value) if len(repr(value)) < 40 else type(value).__name__
    raise BindingError(
        f"{name}={shown} is not a number",
        "give a float, an int, or an array of them (a numpy array or a list)",
    )


def _short(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.6g}" if math.isfinite(value) else repr(value)
