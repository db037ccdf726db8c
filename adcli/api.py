"""The ``Expression`` façade: what a script, and every CLI command, works with."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from . import report
from .autodiff import Gradient, Tangents, forward, reverse, tangents_of
from .displayed import Displayed
from .errors import BindingError, EvaluationError, UsageError, no_value, not_a_variable
from .evaluate import Compiled
from .graph import CONST, ROWS, VAR, without_gc
from .ops import CONSTANTS, OPS, shape_text
from .params import Init, start_values
from .syntax import Program, parse


@without_gc
def compile(  # noqa: A001
    text: str,
    shapes: Mapping[str, Sequence[int | None]] | None = None,
    backend: str = "numpy",
) -> Expression:
    """Parse ``text`` into an expression that can be evaluated and differentiated.

    ``shapes`` gives the free variables that are arrays (``{"X": (None, 64)}``, None
    for the data's rows); the others are numbers, or many points at once when given
    arrays. It is asked only for the names the text uses.

    ``backend`` runs arrays: ``"numpy"``, or ``"jax"`` (``pip install 'adcli[jax]'``),
    which compiles the graph once with ``jax.jit`` for large batches, fits and
    training. Its arrays come back as JAX arrays for JAX arrays in, else as read-only
    numpy views of JAX's buffers. One point is computed by Python's math on either.
    """
    return Expression(parse(text, shapes), check_backend(backend))


BACKENDS = ("numpy", "jax")


def check_backend(backend: str) -> str:
    """``backend`` if it is one adcli has and can run, else a ``UsageError`` with the fix."""
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}", "choose numpy or jax")
    if backend == "jax":
        import importlib.util

        if importlib.util.find_spec("jax") is None:
            raise UsageError("the jax backend needs JAX, which is not installed",
                             "install it: pip install 'adcli[jax]'")  # fmt: skip
    return backend


class Derivatives:
    """Derivatives as formulas: shared parts ``t1 = ...`` (when they make it shorter,
    or as ``cse`` says) and one formula per variable."""

    def __init__(self, graph, roots: list[int], names, order: int, cse: bool | None) -> None:
        from .printing import to_program

        self.ir, self.roots, self.names, self.order = graph, roots, tuple(names), order
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
        return latex_program(self.ir, self.roots, self.names, self.order,
                             bool(self.statements))  # fmt: skip


class Expression(Displayed):
    """A compiled expression: values, gradients and the per-node table. It shows
    itself (``displayed``) as its program, its variables and its size."""

    def __init__(self, program: Program, backend: str = "numpy") -> None:
        self.program = program
        self.backend = backend  # who runs arrays (see ``compile``)
        self.ir = program.graph
        self.outputs = program.outputs
        self.n_forward = len(self.ir)  # later nodes belong to derivatives
        # One cache per transform, so that no variable's name can collide with
        # another cache's key (a variable named ``tangents`` once did).
        self._compiled: dict[tuple[int, ...], Compiled] = {}
        self._reverse: dict[tuple[str, ...] | None, Gradient] = {}  # None: every variable
        self._hessians: dict[tuple[str, ...], list[list[int]]] = {}
        self._tangents: dict[str, Tangents] = {}
        self._jacobian: list[list[int]] | None = None
        self._numbers: dict[int, int] | None = None
        self._labels = None  # printing.Labels, made for the first table
        self._starts: dict[int, dict[str, Any]] = {}  # declared params' start values by seed
        self._by_keyword = None  # (variables, function of floats): f.grad(x=2.0)'s path

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

    @property
    def params(self) -> dict[str, Init]:
        """The params the program declares (``param W = glorot(3, 2)``), in order."""
        return self.program.params

    def start_values(self, seed: int = 0) -> dict[str, Any]:
        """Each declared param's start value, drawn from ``seed`` (the same each time)."""
        if not (isinstance(seed, int) and seed >= 0):
            raise UsageError(f"{{seed}} must be a whole number ≥ 0, got {seed!r}", options=True)
        if seed not in self._starts:
            self._starts[seed] = start_values(self.params, seed)
        return self._starts[seed]

    def _params(self) -> list[int]:
        return list(self.ir.variables.values())

    def numbers_only(self, what: str, instead: str) -> None:
        """A ``UsageError`` saying ``what`` when the program has arrays (SPEC §10)."""
        if self.ir.numbers:
            return
        g = self.ir
        arrays = [f"{n} {shape_text(g.shape[v])}" for n, v in g.variables.items() if g.shape[v]]
        are = "is an array" if len(arrays) == 1 else "are arrays"
        raise UsageError(f"{what}, and {', '.join(arrays)} {are}", instead)

    def _scalar_output(self, output: int, rows: int | None = None) -> None:
        """A gradient needs a single number: say how to reduce an array to one."""
        shape = self.ir.shape[output]
        if shape == ():
            return
        if ROWS in shape:
            counted = f" ({rows} rows)" if rows is not None else ""
            raise UsageError(f"the loss has one value per data row{counted}: wrap it in "
                             "mean(...) or sum(...)")  # fmt: skip
        raise UsageError(f"the expression has shape {shape_text(shape)}, not one number: "
                         "wrap it in sum(...) or mean(...)")  # fmt: skip

    def single_output(self, command: str) -> int:
        """The one output, or a ``UsageError`` saying ``command`` needs one."""
        if len(self.outputs) != 1:
            raise UsageError(
                f"{command} needs one output, this expression has {len(self.outputs)}",
                "give a single expression, or use eval/jacobian for several outputs",
            )
        return self.outputs[0]

    def wrt(self, names: Sequence[str] | None) -> tuple[str, ...]:
        """Check a ``wrt`` list against the variables; default: all of them."""
        if names is None:
            return self.variables
        names = tuple(n.strip() for n in names)
        for name in names:
            if not name:
                raise UsageError("{wrt} has an empty name", "list variables: {wrt} x,y",
                                 options=True)  # fmt: skip
            if name not in self.ir.variables:
                raise not_a_variable(name, self.variables, CONSTANTS)
            if names.count(name) > 1:
                raise UsageError(f"{{wrt}} names {name} twice", options=True)
        return names

    @without_gc
    def gradient(self, wrt: Sequence[str] | None = None) -> Gradient:
        found = self._reverse.get(wrt if wrt is None else tuple(wrt))
        if found is not None:
            return found
        names = self.wrt(wrt)
        if names not in self._reverse:
            output = self.single_output("grad")
            self._scalar_output(output)
            variables = [self.ir.variables[n] for n in names]
            grad = reverse(self.ir, output, variables)
            grad.nodes = [grad.output, *grad.grads(self.ir)]  # the value, then ∂f/∂wrt
            self._reverse[names] = grad
        self._reverse[wrt if wrt is None else tuple(wrt)] = self._reverse[names]
        return self._reverse[names]

    @without_gc
    def compiled(self, outputs: Sequence[int]) -> Compiled:
        key = tuple(outputs)
        if key not in self._compiled:
            self._compiled[key] = Compiled(self.ir, self._params(), key, self.backend)
        return self._compiled[key]

    def value_and_grad_nodes(self, wrt: Sequence[str] | None = None) -> list[int]:
        return self.gradient(wrt).nodes

    @without_gc
    def hessian_nodes(self, wrt: Sequence[str] | None = None) -> list[list[int]]:
        """Second derivatives, reverse over reverse: each gradient node differentiated again."""
        names = self.wrt(wrt)
        if names not in self._hessians:
            g = self.ir
            variables = [g.variables[n] for n in names]
            rows = [reverse(g, d, variables).grads(g) for d in self.gradient(names).grads(g)]
            self._hessians[names] = rows
        return self._hessians[names]

    @without_gc
    def tangents(self, name: str) -> Tangents:
        """Forward mode: the tangent of every node along the variable ``name``."""
        if name not in self._tangents:
            g = self.ir
            self._tangents[name] = forward(g, self.outputs, g.variables[name])
        return self._tangents[name]

    def jacobian_nodes(self, mode: str = "reverse") -> list[list[int]]:
        """∂output_i/∂variable_j as nodes: one reverse sweep per output, or one
        forward sweep per variable. ``auto`` takes forward when inputs < outputs."""
        if mode == "auto":
            mode = "forward" if len(self.variables) < len(self.outputs) else "reverse"
        g = self.ir
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
        output = self.single_output("grad")
        g = self.ir
        return [output, *(tangents_of(self.tangents(v), g, [output])[0] for v in self.wrt(wrt))]

    @without_gc
    def derivative_nodes(self, names: Sequence[str], order: int = 1) -> list[int]:
        """∂ⁿf/∂vⁿ for each variable v of ``names``, as nodes of this graph."""
        output = self.single_output("diff")
        g = self.ir
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

        self.numbers_only("diff writes derivatives as formulas of numbers",
                          "grad gives the gradient of each array, of its shape")  # fmt: skip
        names = self.wrt(wrt)
        graph, roots = simplified(self.ir, self.derivative_nodes(names, order))
        return Derivatives(graph, roots, names, order, cse)

    def derivative(self, name: str, order: int = 1) -> Expression:
        """The derivative as another expression: printable, evaluable, differentiable."""
        from .printing import program_text
        from .simplify import simplified

        self.numbers_only("a derivative expression is a formula of numbers",
                          "grad gives the gradient of each array, of its shape")  # fmt: skip
        graph, (root,) = simplified(self.ir, self.derivative_nodes([name], order))
        return Expression(Program(program_text(graph, [root]), graph, [root]), self.backend)

    def __str__(self) -> str:
        from .printing import program_text

        return program_text(self.ir, self.outputs)

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

    # --- Hessians and Jacobians of arrays (SPEC §10: up to 1000 elements) ---------

    def array_hessian(self, args: Sequence[Any], wrt: Sequence[str]):
        """The Hessian of the one output over the flattened elements of ``wrt``, the
        elements' names (``W[0, 1]``) and the value and gradient norm there."""
        import numpy as np

        from .autodiff import element_gradients

        g = self.ir
        output = self.single_output("hessian")
        self._scalar_output(output)
        names = self.wrt(wrt)
        labels = self._flat_labels(names, "the Hessian", args)
        variables = [g.variables[n] for n in names]
        nodes = self.gradient(names).nodes
        rows = [r for grad in nodes[1:] for r in element_gradients(g, grad, variables)]
        values = self.compiled([*nodes, *(n for row in rows for n in row)]).whole(*args)
        value, grads, flat = values[0], values[1 : len(nodes)], values[len(nodes) :]
        width = len(variables)
        matrix = np.array([np.concatenate([np.ravel(v) for v in flat[i * width : (i + 1) * width]])
                           for i in range(len(rows))])  # fmt: skip
        norm = math.sqrt(sum(float(np.vdot(d, d)) for d in grads))
        return matrix, labels, value, norm

    def array_jacobian(self, args: Sequence[Any], wrt: Sequence[str]):
        """∂(each output element)/∂(each element of ``wrt``), with both sides' names."""
        import numpy as np

        from .autodiff import element_gradients

        g = self.ir
        names = self.wrt(wrt)
        for o in self.outputs:
            if ROWS in g.shape[o]:
                raise UsageError("jacobian takes outputs of a fixed size, not one per data row",
                                 "reduce them with sum(...) or mean(...)")  # fmt: skip
        columns = self._flat_labels(names, "the Jacobian", args)
        outputs = (
            [f"f{i + 1}" for i in range(len(self.outputs))] if len(self.outputs) > 1 else ["f"]
        )
        row_labels = [label for o, name in zip(self.outputs, outputs)
                      for label in _element_labels(name, g.shape[o])]  # fmt: skip
        if len(row_labels) > MAX_ELEMENTS:
            raise UsageError(f"the Jacobian would have {len(row_labels)} rows (output elements); "
                             f"it is made for up to {MAX_ELEMENTS}")  # fmt: skip
        variables = [g.variables[n] for n in names]
        rows = [r for o in self.outputs for r in element_gradients(g, o, variables)]
        flat = self.compiled([n for row in rows for n in row]).whole(*args)
        width = len(variables)
        matrix = np.array([np.concatenate([np.ravel(v) for v in flat[i * width : (i + 1) * width]])
                           for i in range(len(rows))])  # fmt: skip
        return matrix, row_labels, columns

    def _flat_labels(self, names: Sequence[str], what: str, args: Sequence[Any]) -> list[str]:
        """``W[0, 1]`` for each element of each of ``names``, by the shapes of the values
        ``args`` (a data column's rows are known only there)."""
        import numpy as np

        for name in names:
            if ROWS in self.ir.shape[self.ir.variables[name]]:
                raise UsageError(f"{what} is taken by parameters of a fixed shape, and {name} "
                                 "has a value per data row", "name parameters with {wrt}",
                                 options=True)  # fmt: skip
        shapes = {n: np.shape(a) for n, a in zip(self.variables, args)}
        labels = [lab for n in names for lab in _element_labels(n, shapes[n])]
        if len(labels) > MAX_ELEMENTS:
            sizes = ", ".join(f"{n} {shape_text(shapes[n])}" for n in names)
            raise UsageError(f"{what} would have {len(labels)} columns ({sizes}); it is made "
                             f"for up to {MAX_ELEMENTS} elements",
                             "name fewer parameters with {wrt}", options=True)  # fmt: skip
        return labels

    def check_minimizable(self) -> None:
        """One output and at least one variable, or a ``UsageError`` saying why not."""
        self.single_output("minimize")
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
        run.names, run.expression = list(self.variables), self
        diagnose(run, self.hessian, self.variables)
        return run

    def train(
        self,
        data: dict[str, Any],
        start: dict[str, Any] | None = None,
        *,
        fixed: dict[str, Any] | None = None,
        seed: int = 0,
        batch_size: int | None = None,
        epochs: int | None = None,
        shuffle: bool = True,
        on_step: Any = None,
        norm_at: Any = None,
        **options: Any,
    ):
        """Descend on the loss over ``data`` (columns by name, rows first): every row
        each step, or minibatches of ``batch_size`` rows for ``epochs`` epochs, each in
        an order drawn from ``seed``. The variables that are not columns are the
        parameters: declared ones start where ``param`` says (drawn from ``seed``),
        ``start`` gives or overrides start values, ``fixed`` holds some at values of
        its own (not trained). ``options`` are ``minimize``'s (method, lr, steps, tol,
        beta, decay, maximize); ``norm_at(k)`` picks the minibatch steps whose gradient
        norm is recorded (default: every one). Returns a ``Training``."""
        from .train import Batching, train

        output = self.single_output("minimize")
        fixed = fixed or {}
        held = {**data, **fixed}  # bound at every step
        columns = [n for n in self.variables if n in held]
        params, given = self.training_starts(held, start, seed)
        order = self.variables
        values = self._shaped([given[n] if n in given else held[n] for n in order])
        bound = dict(zip(order, values))
        rows = self._rows(bound)
        self._scalar_output(output, rows)
        if rows is None and batch_size is not None:
            raise UsageError("minibatches are made of data rows, and the loss reads none",
                             "leave out {batch_size}", options=True)  # fmt: skip
        settings = training_settings(options)
        compiled = self.compiled(self.value_and_grad_nodes(params))
        loss = self.compiled([output])
        at = {n: i for i, n in enumerate(order)}

        def arguments(x: list[Any], batch: list[Any]) -> list[Any]:
            args: list[Any] = [None] * len(order)
            for name, v in zip(params, x):
                args[at[name]] = v
            for name, v in zip(columns, batch):
                args[at[name]] = v.value if v.__class__ is _Whole else v
            return args

        def value_and_grad(x: list[Any], batch: list[Any]) -> tuple[float, list[Any]]:
            f, *g = compiled.whole(*arguments(x, batch))
            return f, g

        import numpy as np

        per_row = self._per_row_terms(output)
        terms = self.compiled([per_row]) if per_row is not None else None

        def value(x: list[Any], batch: list[Any]) -> float:
            if terms is None or rows is None:
                return loss.whole(*arguments(x, batch))[0]
            # the loss over every row, a chunk of rows at a time: no intermediate
            # array of the whole data's size is made (only minibatches are)
            total, count = 0.0, 0
            for start in range(0, rows, ROW_CHUNK):
                chunk = [v if v.__class__ is _Whole else v[start : start + ROW_CHUNK]
                         for v in batch]  # fmt: skip
                part = terms.whole(*arguments(x, chunk))[0]
                total += float(np.sum(part))
                count += np.size(part)
            return total / count if self.ir.op[output] == "mean" else total

        start_values = {n: bound[n] for n in params}
        # Rows are batched in the data's columns; fixed values go whole to every step.
        batched = [bound[n] if n in data else _Whole(bound[n]) for n in columns]
        run = train(value_and_grad, start_values, batched, rows or 1, settings,
                    Batching(batch_size, epochs, seed, shuffle), on_step, value,
                    norm_at)  # fmt: skip
        run.per_row = rows is not None and self.ir.op[output] == "sum"
        return run

    def training_starts(self, held: Collection[str], start: dict[str, Any] | None,
                        seed: int) -> tuple[list[str], dict[str, Any]]:  # fmt: skip
        """The parameters to train (the variables not ``held``: data columns and fixed
        values) and where each starts: ``start``, else its ``param`` declaration's
        value drawn from ``seed``; a ``BindingError`` for one without a start."""
        for name in held:
            if name not in self.ir.variables:
                raise not_a_variable(name, self.variables, CONSTANTS)
        params = [n for n in self.variables if n not in held]
        if not params:
            raise UsageError("every variable is a data column: there is nothing to train",
                             "a parameter is a variable that no data file has")  # fmt: skip
        declared = self.start_values(seed) if self.params else {}
        given = {**{n: v for n, v in declared.items() if n not in held}, **(start or {})}
        for name in given:
            if name not in self.ir.variables or name in held:
                raise BindingError(f"{name} is given a start value but is not a parameter")
        for name in params:
            if name not in given:
                raise no_value(name)
        return params, given

    def fit(
        self,
        target: Any,
        data: dict[str, Any],
        start: dict[str, float] | None = None,
        *,
        weights: Any = None,
        bounds: dict[str, tuple[float, float]] | None = None,
        method: str = "auto",
    ):
        """Least squares: the parameters (the variables that are not ``data``
        columns) that make this model closest to ``target`` row by row, from
        ``start`` (1 for a parameter it leaves out), within ``bounds``. Returns a
        ``fit.Fit`` with the estimates, their standard errors and the rest."""
        from .fit import least_squares

        self.single_output("fit")
        for name in data:
            if name not in self.ir.variables:
                raise not_a_variable(name, self.variables, CONSTANTS)
        params = [n for n in self.variables if n not in data]
        if not params:
            raise UsageError("the model has no parameters to fit: every variable is a column",
                             "a parameter is a variable that no data column has")  # fmt: skip
        start = dict(start or {})
        for name in start:
            if name not in params:
                raise BindingError(f"{name} is given a start value but is not a parameter",
                                   "the parameters are " + ", ".join(params))  # fmt: skip
        for name in bounds or {}:
            if name not in params:
                raise BindingError(f"{name} is given bounds but is not a parameter",
                                   "the parameters are " + ", ".join(params))  # fmt: skip
        model = self.row_model(data, params)
        lower = [(bounds or {}).get(n, (-math.inf, math.inf))[0] for n in params]
        upper = [(bounds or {}).get(n, (-math.inf, math.inf))[1] for n in params]
        return least_squares(model, target, params, [start.get(n, 1.0) for n in params],
                             weights=weights, bounds=(lower, upper), method=method)  # fmt: skip

    def row_model(self, data: dict[str, Any], params: Sequence[str]):
        """``model(x)``: this model's values by row at the parameters ``x``, and its
        derivative by each (the forward tangents), over the ``data`` columns;
        ``model(x, rows)`` over a slice of the rows."""
        import numpy as np

        from .autodiff import tangents_of

        g = self.ir
        output = self.single_output("fit")
        slopes = [tangents_of(self.tangents(p), g, [output])[0] for p in params]
        compiled = self.compiled([output, *slopes])
        columns = {n: np.asarray(v, dtype=np.float64) for n, v in data.items()}
        at = {n: i for i, n in enumerate(self.variables)}

        def model(x: Sequence[float], rows: slice | None = None) -> tuple[Any, list[Any]]:
            args: list[Any] = [None] * len(at)
            for name, value in columns.items():
                args[at[name]] = value if rows is None else value[rows]
            for name, value in zip(params, x):
                args[at[name]] = float(value)
            m, *dm = compiled.whole(*args) if not g.numbers else compiled.scalar(*args)
            return m, dm

        return model

    def fit_likelihood(self, data: dict[str, Any], start: dict[str, float] | None = None):
        """Minimise this expression, a negative log-likelihood over the ``data``
        columns, in its parameters (the other variables), from ``start`` (1 for one
        it leaves out), by Newton's method on its exact gradient and Hessian. Returns
        a ``fit.Fit``; its standard errors come from the inverse Hessian."""
        import numpy as np

        from .fit import maximum_likelihood

        output = self.single_output("fit")
        params = [n for n in self.variables if n not in data]
        if not params:
            raise UsageError("the model has no parameters to fit: every variable is a column",
                             "a parameter is a variable that no data column has")  # fmt: skip
        p = len(params)
        nodes = [*self.value_and_grad_nodes(params),
                 *(n for row in self.hessian_nodes(params) for n in row)]  # fmt: skip
        compiled = self.compiled(nodes)
        at = {n: i for i, n in enumerate(self.variables)}
        columns = {n: np.asarray(v, dtype=np.float64) for n, v in data.items()}
        rows = max((len(v) for v in columns.values() if v.ndim), default=1)

        def value_grad_hess(x: Sequence[float]) -> tuple[float, Any, Any]:
            args: list[Any] = [None] * len(at)
            for name, value in columns.items():
                args[at[name]] = value
            for name, value in zip(params, x):
                args[at[name]] = float(value)
            values = compiled.whole(*args) if not self.ir.numbers else compiled.scalar(*args)
            return values[0], np.array(values[1 : p + 1]), np.array(values[p + 1 :]).reshape(p, p)

        self._scalar_output(output, rows)
        begin = [(start or {}).get(n, 1.0) for n in params]
        return maximum_likelihood(value_grad_hess, params, begin, rows)

    def _per_row_terms(self, output: int) -> int | None:
        """The node whose sum (or mean) over every element is the loss, when each of
        its rows depends on that row of the data alone, so the loss over every row can
        be summed a chunk of rows at a time; None otherwise."""
        g = self.ir
        if g.op[output] not in ("sum", "mean") or g.attrs.get(output) is not None:
            return None
        inner = g.args[output][0]
        if ROWS not in g.shape[inner][:1] or not self._row_by_row(inner):
            return None
        return inner

    def _row_by_row(self, node: int) -> bool:
        """Each row of ``node`` depends on that row of the data alone."""
        g = self.ir
        needed = g.ancestors([node])
        for n in range(node + 1):
            if not needed[n] or g.op[n] in (CONST, VAR):
                continue
            by_rows = [ROWS in g.shape[a] for a in g.args[n]]
            if not any(by_rows):
                continue
            if g.shape[n][:1] != (ROWS,) or not _row_by_row(g, n, by_rows):
                return False
        return True

    def over_parts(self, output: int) -> str | None:
        """How ``output`` is had from parts of the rows (``--engine dask``): ``"rows"``
        when each of its rows depends on that row of the data alone, ``"sum"`` or
        ``"mean"`` when it is the sum or mean of such terms; None otherwise."""
        if self._per_row_terms(output) is not None:
            return self.ir.op[output]
        shape = self.ir.shape[output]
        return "rows" if shape[:1] == (ROWS,) and self._row_by_row(output) else None

    def _rows(self, bound: dict[str, Any]) -> int | None:
        """How many rows the data has (every column the same, as ``_shaped`` checked);
        None when the loss reads no column with rows (params alone)."""
        for name, value in bound.items():
            shape = self.ir.shape[self.ir.variables[name]]
            if shape and shape[0] is ROWS:
                return len(value)
        return None

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
            if name not in self.ir.variables:
                raise not_a_variable(name, variables, CONSTANTS)
            if name in bound:
                raise BindingError(f"{name} is given twice: by position and by name")
            bound[name] = value
        for name in variables:
            if name not in bound and name in self.params:
                bound[name] = self.start_values()[name]  # a declared param: its start
            if name not in bound:
                raise no_value(name)
        return [_number_or_array(name, bound[name]) for name in variables]

    def _shaped(self, values: list[Any]) -> list[Any]:
        """Values of a graph with arrays, each of its variable's shape (the data's rows
        the same number for every column), or a ``BindingError`` naming the mismatch."""
        import numpy as np

        rows: tuple[str, int] | None = None  # the first variable with rows, and how many
        out = []
        for name, value in zip(self.variables, values):
            array = value if _is_jax(value) else np.asarray(value, dtype=np.float64)
            want = self.ir.shape[self.ir.variables[name]]
            fits = array.ndim == len(want) and all(
                w is ROWS or w == d for w, d in zip(want, array.shape)
            )
            if not fits:
                raise BindingError(f"{name} has shape {shape_text(array.shape)}; the expression "
                                   f"takes {shape_text(want)}")  # fmt: skip
            for w, d in zip(want, array.shape):
                if w is ROWS and rows is None:
                    rows = (name, d)
                elif w is ROWS and rows[1] != d:
                    raise BindingError(f"{rows[0]} has {rows[1]} rows and {name} has {d}: every "
                                       "column needs the same number of rows")  # fmt: skip
            out.append(array)
        return out

    def point(self, point: Sequence[float]) -> list[float]:
        """One point given as a sequence in the order of the variables, as floats."""
        if isinstance(point, (str, bytes)) or not hasattr(point, "__len__"):
            if len(self.variables) == 1:
                point = [point]
            else:
                raise BindingError(f"a point is a list of {len(self.variables)} numbers, in "
                                   f"the order {', '.join(self.variables) or '()'}")  # fmt: skip
        values = self.bind({}, list(point))
        if self.ir.numbers and any(not isinstance(v, float) for v in values):
            raise BindingError("this takes one point: numbers, not arrays")
        if not self.ir.numbers:  # arrays: each of its variable's shape
            return self._shaped(values)
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
        if compiled.arrays:
            return compiled.whole(*self._shaped(values))
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
        names, function = self._by_keyword or self._keyword_function()
        if function is not None and len(args) + len(bindings) == len(names):
            try:  # the common calls, f.grad(x=2.0) and f.grad(2.0): the compiled function
                return function(bindings if bindings else dict(zip(names, args)))
            except (KeyError, TypeError):  # another name, not floats, a list of names: on
                pass
        wrt = None
        if args and (isinstance(args[0], str) or _names(args[0])):
            wrt, args = ([args[0]] if isinstance(args[0], str) else args[0]), args[1:]
        grad = self.gradient(wrt)
        names = self.wrt(wrt) if wrt is not None else self.variables
        values = self._run(grad.nodes, args, bindings)
        return values[0], dict(zip(names, values[1:]))

    def value_and_grad(self, wrt: Sequence[str] | None = None):
        """The cheapest call adcli has, for a script's own loops: a compiled function
        of floats, positional in the order of ``variables``, that returns
        ``(value, (∂f/∂w for w in wrt))`` (default: every variable), as ``codegen``'s
        module does::

            step = adcli.compile("x*sigmoid(x)/(x**2+1)").value_and_grad()
            value, (dx,) = step(2.0)

        Straight-line code, IEEE inf/nan where math raises; no names are checked at
        the call. A program of arrays has none: use ``grad``."""
        names = self.wrt(wrt)
        if self.params or not self.ir.numbers:
            raise UsageError("value_and_grad() is a function of numbers; this program has "
                             "arrays", "use grad(...), which takes arrays")  # fmt: skip
        return self.compiled(self.value_and_grad_nodes(names)).split_function()

    def _keyword_function(self) -> tuple[tuple[str, ...], Any]:
        """``grad``'s path for floats: the variables, and the compiled function of a dict
        of them (floats only) to ``(value, {variable: partial})``; None for a program
        of arrays."""
        function = None
        if not self.params and self.ir.numbers:
            compiled = self.compiled(self.value_and_grad_nodes())
            function = compiled.split_function(by_name=self.variables)
        self._by_keyword = (self.variables, function)
        return self._by_keyword

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

        self.single_output("check")
        return check(self, self.point(point), method, eps, tol)

    # --- what the tables show (report.py words them) -------------------------

    @property
    def numbers(self) -> dict[int, int]:
        """The row number of each forward node: variables first, then in forward order."""
        if self._numbers is None:
            self._numbers = report.numbers(self)
        return self._numbers

    def table(self, point: Sequence[float] | float | None = None, wrt: Sequence[str] | None = None,
              mode: str = "reverse", **bindings: Any):  # fmt: skip
        """The per-node table at one point (``mode="forward"``: the tangent table), with
        the value and the gradient it explains: ``f.table(x=2)``, or ``f.table([2.0])``
        in the order of ``variables``. In Jupyter it shows as an HTML table."""
        return report.Table(self, self._point_of(point, bindings), wrt, mode)

    def graph(self, point: Sequence[float] | float | None = None,
              wrt: Sequence[str] | None = None, **bindings: Any):  # fmt: skip
        """The computation graph as a picture: ``f.graph()``, or with each node's value
        and adjoint at a point, ``f.graph(x=2)``. In Jupyter an SVG (Graphviz), else the
        text drawing. (The graph itself, the IR, is ``f.ir``.)"""
        if point is None and not bindings:
            return report.Picture(self, None, wrt)
        return report.Picture(self, self._point_of(point, bindings), wrt)

    def _point_of(self, point: Sequence[float] | float | None, bindings: dict[str, Any]):
        """One point, given by position (``point``) or by name (``bindings``)."""
        if point is not None and bindings:
            raise BindingError("give the point by position or by name, not both")
        return self.point(point) if point is not None else self.point(self.bind(bindings))

    def node_table(self, point: list[float], wrt: Sequence[str] | None = None):
        """Values, local partials and adjoints of every forward node at one point."""
        return report.node_table(self, point, wrt)

    def tangent_table(self, point: list[float], wrt: Sequence[str] | None = None):
        """Forward mode's trace: values, local partials and one tangent per variable."""
        return report.tangent_table(self, point, wrt)

    def explain(self, point: list[float], wrt=None, mode: str = "reverse") -> list[str]:
        """The chain rule edge by edge, in the order the sweep applies it."""
        return report.explain(self, point, wrt, mode)

    def label(self, node: int, width: int = 28) -> str:
        """The node as the tables name it: its label, or its formula cut to ``width``."""
        return report.label(self, node, width)

    def inputs_text(self, node: int) -> list[str]:
        """A node's inputs as the tables show them: ``#3``, or a constant's value."""
        return report.inputs_text(self, node)

    def culprit(self, point: list[float], wrt: Sequence[str] | None = None) -> str:
        """Name the first node that went non-finite (its inputs were finite) and why."""
        return report.culprit(self, point, wrt)

    def check_finite(self, point: list[float], values: Sequence[float], wrt=None) -> None:
        """Raise an ``EvaluationError`` naming the node that first went non-finite."""
        if not all(math.isfinite(v) for v in values):
            raise EvaluationError(self.culprit(point, wrt))


MAX_ELEMENTS = 1000  # the largest Hessian or Jacobian side of arrays (SPEC §10)


def training_settings(options: dict[str, Any]):
    """``minimize``'s options on data (method, lr, steps, tol, beta, decay, maximize),
    the defaults filled in; an unknown one, or a line search, is a ``UsageError``."""
    from .optimize import Settings

    defaults = {"method": "gd", "lr": 0.1, "steps": 100, "tol": 1e-8, "beta": 0.9,
                "decay": 1.0, "line_search": False, "maximize": False}  # fmt: skip
    unknown = set(options) - set(defaults)
    if unknown:
        raise UsageError(f"unknown option {sorted(unknown)[0]!r}")
    settings = Settings(**{**defaults, **options})
    if settings.line_search:
        raise UsageError("a line search is for a loss without data", "leave out {line_search}",
                         options=True)  # fmt: skip
    return settings


def _element_labels(name: str, shape: tuple) -> list[str]:
    """``W[0, 0]``, ``W[0, 1]``, … in C order; the name alone for a number."""
    import itertools

    if not shape:
        return [name]
    return [f"{name}[{', '.join(map(str, at))}]"
            for at in itertools.product(*(range(d) for d in shape))]  # fmt: skip


def _names(value: Any) -> bool:
    """A non-empty list or tuple of strings: a ``wrt`` list, not a point."""
    return (
        isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, str) for v in value)
    )


def _is_jax(value: Any) -> bool:
    """A JAX array (JAX is imported only where one was made)."""
    import sys

    jax = sys.modules.get("jax")
    return jax is not None and isinstance(value, jax.Array)


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
            on_jax = _is_jax(value)
            if isinstance(value, np.generic) or array.ndim == 0 and on_jax:
                return float(value)
            if on_jax:  # kept on JAX's side: the jax backend gives JAX arrays back
                return value
            return array.astype(np.float64, copy=False)
        if array.dtype.kind == "c":
            raise BindingError(f"{name} is complex; adcli computes with real numbers")
    shown = repr(value) if len(repr(value)) < 40 else type(value).__name__
    raise BindingError(
        f"{name}={shown} is not a number",
        "give a float, an int, or an array of them (a numpy array or a list)",
    )


ROW_CHUNK = 4096  # rows of data evaluated together when the loss is summed by chunks


def _row_by_row(g: Any, n: int, by_rows: list[bool]) -> bool:
    """Whether node ``n``'s row i depends on row i of its inputs only (the rows first),
    as its op's row says (``Op.rows``)."""
    spec = OPS[g.op[n]]
    how = spec.rows or ("each" if spec.elementwise else None)
    if how == "each":
        return True
    if how == "left":  # rows times a matrix: the rows are not summed over
        return by_rows == [True, False] and len(g.shape[g.args[n][0]]) == 2
    if how == "axis":  # a reduction along another axis than the rows'
        return g.attrs.get(n) not in (None, 0)
    return False


class _Whole:
    """A value that every batch takes whole (a fixed parameter): indexing by the
    batch's rows gives it back."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __getitem__(self, rows: Any) -> Any:
        return self.value
