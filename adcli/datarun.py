"""Commands on data and arrays (SPEC §9, §10): ``--data`` binds columns, ``param``
declarations, ``--with`` and ``--at``/``--start`` bind the parameters; ``eval``
prints a row per data row, ``grad`` each parameter's gradient, ``minimize`` trains.

A program is run here when it reads data, declares params or is given arrays;
everything else keeps the paths of numbers (``pointwise``), unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .api import Expression, compile
from .errors import BindingError, EvaluationError, ParseError, UsageError
from .graph import ROWS
from .numtext import full, json_number, rounded
from .ops import shape_text
from .render import TABLES, Columns, Output

_NPY_BINDING = re.compile(r"([^\W\d]\w*)=@(.+\.npy)")  # W=@w.npy


class Bound:
    """A program with a value for each variable: the data's columns, then the
    parameters (declared start values from ``--seed``, ``--with``, ``--at``)."""

    def __init__(self, e: Expression, columns: dict[str, Any], params: dict[str, Any],
                 rows: int | None) -> None:  # fmt: skip
        self.e, self.columns, self.params, self.rows = e, columns, params, rows

    def args(self) -> list[Any]:
        return [self.columns[n] if n in self.columns else self.params[n] for n in self.e.variables]


def read(text: str, data: Sequence[str] | None, given: Sequence[str] = (),
         start: Sequence[str] = (),
         backend: str = "numpy") -> tuple[Expression, Any, dict[str, Any]]:  # fmt: skip
    """The program, compiled with the shapes of the data's columns (read as the parser
    meets their names) and of the arrays ``given`` (``--with``) or in files ``start``
    names (``--start @params.npz``); the opened files (None without ``--data``) and
    the values given, arrays from ``start`` among them."""
    files = None
    if data:
        from .data import Files

        files = Files(data)
    files_of_start = [s for s in start if _of_files(s)]
    values = values_of([*given, *files_of_start], None) if given or files_of_start else Given()
    arrays = {n: v.shape for n, v in values.items() if getattr(v, "ndim", 0)}
    if files is None and not arrays:
        return compile(text, backend=backend), None, values
    return compile(text, _Shapes(files, arrays), backend), files, values


class _Shapes(Mapping):
    """The shapes the parser asks for by name: a given array's, else a data column's."""

    def __init__(self, files: Any, arrays: dict[str, tuple]) -> None:
        self.files, self.arrays = files, arrays

    def __getitem__(self, name: str) -> tuple:
        shape = self.get(name)
        if shape is None:
            raise KeyError(name)
        return shape

    def get(self, name: str, default: Any = None) -> Any:
        if name in self.arrays:
            return self.arrays[name]
        shape = self.files.shape(name) if self.files is not None else None
        return default if shape is None else shape

    def __iter__(self):
        return iter({**dict.fromkeys(self.files.names if self.files else []), **self.arrays})

    def __len__(self) -> int:
        return sum(1 for _ in self)


def on_arrays(e: Expression, files: Any, given: dict[str, Any], points: bool = False) -> bool:
    """Whether the data-and-arrays path runs this command. With ``points`` (eval and
    grad, which take many points), numbers given with ``--with`` to a program of
    numbers stay on the points' path, fixed at every point (a saved fit's values)."""
    if files is not None or e.params or not e.ir.numbers:
        return True
    if points:
        return any(getattr(v, "ndim", 0) for v in given.values())
    return bool(given)


def fixed_numbers(e: Expression, given: dict[str, Any]) -> dict[str, float]:
    """The ``--with`` numbers a program of numbers uses (a file's others left out)."""
    loose = getattr(given, "from_files", ())
    for name in given:
        if name not in e.ir.variables and name not in loose:
            raise BindingError(f"--with gives {name}, which the expression does not use",
                               "its variables are " + ", ".join(e.variables))  # fmt: skip
    return {n: float(v) for n, v in given.items() if n in e.ir.variables}


def bind(e: Expression, files: Any, given: dict[str, Any], seed: int,
         point: Sequence[str] | None, option: str) -> Bound:  # fmt: skip
    """Every variable's value: columns from ``files``, then declared params' start
    values, then ``given`` (``--with``), then ``point`` (``--at``/``--start``), each
    checked against the shape the program gives it."""
    data = files.load(e.variables) if files is not None else None
    columns = dict(data) if data is not None else {}
    if data is not None and columns and data.rows == 0:
        raise UsageError(f"{', '.join(dict.fromkeys(data.source.values()))} has no rows, only a "
                         "header", "give a file with data rows")  # fmt: skip
    sources = {n: data.source[n] for n in columns} if data is not None else {}
    params = parameters(e, sources, given, seed, point, option,
                        files.names if files is not None else [])  # fmt: skip
    bound = Bound(e, columns, params, data.rows if data is not None and columns else None)
    e._shaped(bound.args())  # each value of its variable's shape, the rows alike
    return bound


def parameters(
    e: Expression,
    columns: Mapping[str, str],
    given: dict[str, Any],
    seed: int,
    point: Sequence[str] | None,
    option: str,
    names: Sequence[str],
) -> dict[str, Any]:
    """The value of every variable that is not one of the data's ``columns`` (by name,
    the file each is in): declared params' start values drawn from ``seed``, then
    ``given`` (``--with``), then ``point`` (``--at``/``--start``); ``names``: all the
    data's columns, which a message about a missing value lists."""
    if len(point or []) > 1:
        raise UsageError(f"{option} was given {len(point)} times; on data it gives the "
                         "parameters one value each",
                         f"give one {option} that binds them all: {option} w=1,b=0")  # fmt: skip
    for name in e.params:
        if name in columns:
            raise UsageError(f"{name} is both a param and a column of {columns[name]}",
                             "rename one of them")  # fmt: skip
    params = {n: v for n, v in e.start_values(seed).items()} if e.params else {}
    free = [n for n in e.variables if n not in columns]
    for source, values in (("--with", given), (option, values_of(point or [], free))):
        loose = getattr(values, "from_files", ())
        for name in [n for n in values if n in loose and n not in e.ir.variables]:
            del values[name]  # a file of several arrays: the ones the program reads
        for name in values:
            if name in columns:
                raise UsageError(f"{source} gives {name}, but {name} is a column of "
                                 f"{columns[name]}",
                                 f"leave {name} out of {source}, or rename the column")  # fmt: skip
            if name not in e.ir.variables:
                raise BindingError(f"{source} gives {name}, which the expression does not use",
                                   "its variables are " + ", ".join(e.variables))  # fmt: skip
        params.update(values)
    missing = [n for n in e.variables if n not in columns and n not in params]
    if missing:
        hint = f"give {option} " + ",".join(f"{n}=..." for n in missing)
        if names:
            hint += f" (the data has {', '.join(names)})"
        raise BindingError(f"no value for {missing[0]}", hint)
    return params


class Given(dict):
    """Parameter values by name, and which of them came from a file of several
    (``@params.npz``): those may hold more than a program uses (a trained network's
    file, read for its first layer), and the ones it does not use are left out."""

    def __init__(self) -> None:
        super().__init__()
        self.from_files: set[str] = set()


def values_of(specs: Sequence[str], names: Sequence[str] | None) -> Given:
    """Parameter values from ``--with``/``--at``/``--start`` texts: ``w=1,b=0``, a
    lone number for a lone name (``names``; None: not known yet, so skipped),
    ``@params.npz``, ``@result.json``, ``W=@w.npy``."""
    from .data import bindings

    values = Given()
    for spec in specs:
        spec = spec.strip()
        if ":" in spec and not _of_files(spec):
            raise UsageError(
                f"{spec}: on data, a parameter takes one value, not a range",
                "ranges and streams of points are for programs of numbers",
            )
        npy = _NPY_BINDING.fullmatch(spec)
        if npy:
            from .data import load

            values[npy.group(1)] = load([f"{npy.group(1)}={npy.group(2)}"])[npy.group(1)]
        elif "=" not in spec and not spec.startswith("@"):
            if names is None:
                continue
            if len(names) != 1:
                raise UsageError(f"{spec}: which parameter is it?",
                                 "name it: " + ",".join(f"{n}=..." for n in names))  # fmt: skip
            values[names[0]] = _number(spec)
        else:
            found = bindings([spec])
            if spec.startswith("@"):
                values.from_files.update(found)
            values.update(found)
    return values


def _of_files(spec: str) -> bool:
    """A start that reads arrays from files (``@params.npz``, ``W=@w.npy``)."""
    spec = spec.strip()
    return spec.startswith("@") or bool(_NPY_BINDING.fullmatch(spec))


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a number") from None


# --- eval -----------------------------------------------------------------------------


def write_values(bound: Bound, out: Output, strict: bool, note) -> None:
    """The outputs: one row per data row when they have rows (with the vector columns
    beside them), else once; arrays in full in JSON, as rows of numbers in plain."""
    e = bound.e
    values = e.compiled(e.outputs).whole(*bound.args())
    per_row = [_has_rows(e, o) for o in e.outputs]
    if any(per_row):
        _write_rows(bound, values, per_row, out, strict, note)
        return
    if not all(_finite(v) for v in values):
        message = "non-finite result: " + e.culprit(bound.args())
        if strict:
            raise EvaluationError(message)
        note("warning: " + message)
    write_results(values, out)


def write_results(values: Sequence[Any], out: Output) -> None:
    """Outputs without rows, once: numbers or arrays, in the output's format."""
    fmt, stream = out.fmt, out.out
    if fmt == "json":
        import json

        value = [json_number(v) for v in values]
        stream.write(json.dumps({"value": value[0] if len(value) == 1 else value}) + "\n")
    elif fmt in ("plain", "csv"):
        separator = " " if fmt == "plain" else ","
        if fmt == "csv":
            out.out.write(",".join(Columns([], len(values), None).value_names()) + "\n")
        for v in values:
            for line in _lines(v):
                stream.write(separator.join(full(x) for x in line) + "\n")
    else:
        for i, v in enumerate(values):
            name = "f" if len(values) == 1 else f"f{i + 1}"
            shape = f" {shape_text(getattr(v, 'shape', ()))}" if getattr(v, "ndim", 0) else ""
            out.say(f"{name}{shape} = {rounded(v, out.digits)}")
    stream.flush()


def _has_rows(e: Expression, node: int) -> bool:
    shape = e.ir.shape[node]
    return bool(shape) and shape[0] is ROWS


def _finite(value: Any) -> bool:
    if getattr(value, "ndim", 0):
        import numpy as np

        return bool(np.isfinite(value).all())
    return math.isfinite(value)


def _lines(value: Any) -> list[list[float]]:
    """A value as lines of numbers: a number or a vector on one line, a matrix by rows
    (higher ranks by their last axis)."""
    if not getattr(value, "ndim", 0):
        return [[value]]
    return [list(row) for row in value.reshape(-1, value.shape[-1])]


def _write_rows(bound: Bound, values, per_row, out: Output, strict: bool, note) -> None:
    import numpy as np

    shown = [n for n, v in bound.columns.items() if v.ndim == 1]  # the vector columns
    rows = bound.rows or 0
    # a value without rows (a number, an array) is repeated on every row, flattened
    parts = [np.reshape(v, (rows, -1)) if has else np.broadcast_to(np.ravel(v), (rows, np.size(v)))
             for v, has in zip(values, per_row)]  # fmt: skip
    table = np.concatenate(parts, axis=1) if parts else np.empty((rows, 0))
    writer = out.writer(Columns(shown, table.shape[1], None))
    point_columns = [bound.columns[n] for n in shown]
    warned = False
    try:
        for i in range(rows):
            row = table[i].tolist()
            if not all(math.isfinite(v) for v in row):
                message = f"row {i + 1} of the data gives a non-finite result"
                if strict:
                    raise EvaluationError(message)
                if not warned:
                    warned = True
                    note(f"warning: {message} (the first of them)")
            writer.row([c[i] for c in point_columns], row)
    finally:
        writer.close()


# --- grad -----------------------------------------------------------------------------


def write_gradient(bound: Bound, out: Output, wrt: Sequence[str] | None, no_table: bool,
                   nodes: bool, save: str | None, note) -> None:  # fmt: skip
    """The value and each parameter's gradient, of the parameter's shape: the node
    table on a terminal; numbers in plain (arrays to ``save`` or JSON)."""
    e = bound.e
    names = trained(bound, wrt)
    if out.fmt in TABLES and not no_table:
        from .render import write_table

        table = e.table(bound.args(), names)
        write_table(table, out)
        values = table.values
    else:
        values = e.compiled(e.value_and_grad_nodes(names)).whole(*bound.args())
    value, grads = values[0], dict(zip(names, values[1:]))
    write_gradient_values(value, grads, out, nodes and (lambda: e.node_table(bound.args(), names)),
                          save, note)  # fmt: skip
    if not _finite(value) or not all(_finite(g) for g in grads.values()):
        raise EvaluationError(e.culprit(bound.args(), names))


def write_gradient_values(value: Any, grads: dict[str, Any], out: Output, nodes, save: str | None,
                          note) -> None:  # fmt: skip
    """A value and its gradients in the output's format (the table's format aside);
    ``nodes()``, when given, the per-node table that JSON carries."""
    if save:
        save_values(save, grads, {"value": value}, key="grad")
    if out.fmt == "json":
        import json

        row: dict[str, Any] = {"value": json_number(value),
                               "grad": {n: json_number(g) for n, g in grads.items()}}  # fmt: skip
        if nodes:
            from .render import node_json

            row["nodes"] = node_json(nodes())
        out.out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif out.fmt in ("plain", "csv"):
        numbers = {n: g for n, g in grads.items() if not getattr(g, "ndim", 0)}
        separator = " " if out.fmt == "plain" else ","
        if out.fmt == "csv":
            out.out.write(",".join(["value", *(f"grad_{n}" for n in numbers)]) + "\n")
        out.out.write(separator.join(full(v) for v in [value, *numbers.values()]) + "\n")
        arrays = [f"{n} {shape_text(g.shape)}" for n, g in grads.items() if n not in numbers]
        if arrays and not save:
            note(f"note: the gradients of {', '.join(arrays)} are arrays: --format json or "
                 "--save FILE.npz writes them")  # fmt: skip
    out.out.flush()


def trained(bound: Bound, wrt: Sequence[str] | None) -> list[str]:
    """The variables to differentiate by: the parameters (not the data), or ``wrt``."""
    if wrt:
        return list(bound.e.wrt(wrt))
    names = [n for n in bound.e.variables if n not in bound.columns]
    if not names:
        raise UsageError("every variable is a data column: there is no parameter to "
                         "differentiate by", "name one with --wrt")  # fmt: skip
    return names


def check_save(path: str) -> None:
    """A ``--save`` file adcli can write: ``.npz`` or ``.json``."""
    if not path.lower().endswith((".npz", ".json")):
        raise UsageError(f"--save {path}: unknown format", "give a .npz or .json file")


def save_values(path: str, values: dict[str, Any], extra: dict[str, Any] | None = None,
                key: str = "params") -> None:  # fmt: skip
    """``values`` by name to ``.npz`` (arrays) or ``.json`` (nested lists, under ``key``:
    ``params`` is what ``--with @file.json`` reads back)."""
    import numpy as np

    check_save(path)
    try:
        if path.lower().endswith(".npz"):
            np.savez(path, **{n: np.asarray(v) for n, v in values.items()})
        else:
            import json

            doc = {**(extra or {}), key: {n: _exact(v) for n, v in values.items()}}
            with open(path, "w", encoding="utf-8") as f:
                json.dump(doc, f)
                f.write("\n")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def _exact(value: Any) -> Any:
    """Every element in full, however many (a saved file is read back, not looked at)."""
    if getattr(value, "ndim", 0):
        return [_exact(v) for v in value]
    value = float(value)
    return value if math.isfinite(value) else repr(value)


# --- fit --------------------------------------------------------------------------------


class FitInput:
    """What ``adcli fit`` fits: the model, the target's values by row, the columns the
    model reads, the parameters' starts (1 where none is given), weights, bounds."""

    def __init__(self, text: str, data: Sequence[str], start: Sequence[str] | None,
                 weights: str | None, bounds: str | None, note,
                 loss: str = "squares", backend: str = "numpy") -> None:  # fmt: skip
        import numpy as np

        from .data import Files
        from .fit import split

        check_loss(loss)
        self.loss, self.backend = loss, backend
        target_text, model_text = split(text)
        self.texts = (target_text, model_text)
        files = Files(data)
        self.model = compile(model_text, files.shapes, backend)
        self.classes: list[str] = []
        if loss == "softmax":  # the target holds class labels, which may be words
            target_text = self._labels(target_text, files)
        target = compile(target_text, files.shapes, backend)
        outside = [n for n in target.variables if files.shape(n) is None]
        if outside:
            raise UsageError(f"the target reads {outside[0]}, which no --data file has",
                             f"the data has {', '.join(files.names)}")  # fmt: skip
        used = {*self.model.variables, *target.variables, *([weights] if weights else [])}
        loaded = files.load(used)
        if weights and weights not in loaded:
            raise UsageError(f"--weights {weights}: no --data file has that column",
                             f"the data has {', '.join(files.names)}")  # fmt: skip
        if loaded.rows == 0:
            raise UsageError("the data has no rows to fit")
        self.columns = {n: loaded[n] for n in self.model.variables if n in loaded}
        # what --predict shows beside fitted and residual: the target's columns, the model's
        self.shown = {n: loaded[n] for n in [*target.variables, *self.columns] if n in loaded}
        values = target.compiled(target.outputs).whole(*(loaded[n] for n in target.variables))
        self.target = np.broadcast_to(values[0], (loaded.rows,))
        if loss == "softmax":
            self.target = self._class_indices
        self.weights = loaded[weights] if weights else None
        self.params = [n for n in self.model.variables if n not in loaded]
        self.start = fit_starts(self.params, start, files.names, note)
        self.bounds = parse_bounds(bounds) if bounds else None
        self._files = files

    def _labels(self, column: str, files) -> str:
        """A softmax fit's target: one column of class labels, numbers or words, mapped
        to 0, 1, … in sorted order (numbers by value). The column read as numbers is
        then the model's only reader of it, so the target is read as 0 (a placeholder)."""
        import numpy as np

        if files.shape(column) is None:
            raise UsageError(f"--loss softmax takes a column of class labels as its target, "
                             f"and no --data file has {column!r}",
                             f"the data has {', '.join(files.names)}")  # fmt: skip
        words = files.words(column)
        if words is None:
            words = [repr(float(v)) for v in files.load([column])[column]]
        try:
            numbers = {w: float(w) for w in set(words)}
            ordered = sorted(numbers, key=numbers.get)
        except ValueError:
            ordered = sorted(set(words))
        self.classes = ordered
        index = {w: i for i, w in enumerate(ordered)}
        self._class_indices = np.array([index[w] for w in words], dtype=np.float64)
        return "0"

    def run(self, method: str):
        """The fit: least squares, or the likelihood of the loss (its deviance, and
        for logistic its accuracy; fitted values on the response's scale)."""
        import numpy as np

        if self.loss == "squares":
            return self.model.fit(self.target, self.columns, self.start, weights=self.weights,
                                  bounds=self.bounds, method=method)  # fmt: skip
        if self.loss in ("huber", "absolute"):
            return self._robust(method)
        if self.loss == "softmax":
            return self._softmax()
        if self.bounds or method != "auto":
            raise UsageError(f"--loss {self.loss} is fitted by Newton's method, without bounds",
                             "leave out --bounds and --method")  # fmt: skip
        t = self.target
        check_likelihood_target(self.loss, t)
        nll, saturated = self._negative_log_likelihood()
        data = {**self.columns, "t__": t, "w__": self.weights if self.weights is not None
                else np.ones_like(t)}  # fmt: skip
        fit = nll.fit_likelihood(data, self.start)
        fit.loss = self.loss
        fit.deviance -= 2.0 * saturated
        m = self.model.compiled(self.model.outputs).whole(
            *(self.columns[n] if n in self.columns else dict(zip(fit.names, fit.estimates))[n]
              for n in self.model.variables))[0]  # fmt: skip
        m = np.broadcast_to(m, t.shape)
        fit.fitted = 1.0 / (1.0 + np.exp(-m)) if self.loss == "logistic" else np.exp(m)
        fit.residuals = t - fit.fitted
        if self.loss == "logistic":
            fit.accuracy = float(np.mean((m > 0) == (t == 1.0)))
        return fit

    def curve(self, fit, points: int = 200):
        """The fitted model along its one input column (on the response's scale):
        ``(name, data x, grid, fitted values on the grid)``; a ``UsageError`` when the
        model reads several columns or none."""
        import numpy as np

        self.check_curve()
        ((name, x),) = self.columns.items()
        grid = np.linspace(float(np.min(x)), float(np.max(x)), points)
        values = dict(zip(fit.names, fit.estimates))
        m = self.model.compiled(self.model.outputs).whole(
            *(grid if n == name else values[n] for n in self.model.variables))[0]  # fmt: skip
        m = np.broadcast_to(m, grid.shape)
        if self.loss == "logistic":
            m = 1.0 / (1.0 + np.exp(-m))
        elif self.loss == "poisson":
            m = np.exp(m)
        return name, x, grid, m

    def _softmax(self):
        """Multinomial logistic regression: the model's k outputs are the logits of the
        k classes; the loss is Σ logsumexp(z) − z[label], by Newton's method."""
        import numpy as np

        logits = _top_level_items(self.texts[1])
        k = len(self.classes)
        if len(logits) != k:
            raise UsageError(
                f"the model gives {len(logits)} logits and the target has {k} "
                f"classes ({', '.join(self.classes)})",
                "one logit per class, the first fixed: 0, a + b*x, ...",
            )
        z = [f"z{i}__" for i in range(k)]
        peak = z[0]
        for name in z[1:]:
            peak = f"max({name}, {peak})"
        lines = [f"{zi} = ({text})" for zi, text in zip(z, logits)]
        lines.append(f"top__ = {peak}")
        lse = "top__ + log(" + " + ".join(f"exp({zi} - top__)" for zi in z) + ")"
        picked = " + ".join(f"(t__ == {i})*{zi}" for i, zi in enumerate(z))
        lines.append(f"sum({lse} - ({picked}))")
        try:
            nll = compile("\n".join(lines), _Shapes(self._files, {"t__": (None,)}), self.backend)
        except ParseError as error:
            raise UsageError(
                f"--loss softmax: {error.message}", "the model is a comma list of logits"
            ) from None
        fit = nll.fit_likelihood({**self.columns, "t__": self.target}, self.start)
        fit.loss = "softmax"  # its deviance is 2·NLL: a saturated model's NLL is 0
        values = dict(zip(fit.names, fit.estimates))
        outputs = self.model.compiled(self.model.outputs).whole(
            *(self.columns[n] if n in self.columns else values[n]
              for n in self.model.variables))  # fmt: skip
        n = len(self.target)
        scores = np.column_stack([np.broadcast_to(o, (n,)) for o in outputs])
        predicted = np.argmax(scores, axis=1).astype(np.float64)
        fit.fitted, fit.residuals = predicted, (predicted != self.target).astype(np.float64)
        fit.accuracy = float(np.mean(predicted == self.target))
        fit.notes.append("classes, in sorted order: " +
                         ", ".join(f"{c} = {i}" for i, c in enumerate(self.classes)))  # fmt: skip
        return fit

    def _robust(self, method: str):
        """Huber's M-estimate, Newton's method on its exact gradient and Hessian from
        the least-squares fit (its scale 1.345 times the residuals' robust σ); or the
        least absolute deviations, by iteratively reweighted least squares."""
        from .fit import HUBER_K, huber_statistics, robust_scale

        if self.weights is not None:
            raise UsageError(f"--loss {self.loss} takes no --weights", "leave out --weights")
        squares = self.model.fit(self.target, self.columns, self.start, bounds=self.bounds,
                                 method=method)  # fmt: skip
        start = dict(zip(squares.names, squares.estimates))
        sigma = robust_scale(squares.residuals)
        if self.loss == "absolute":
            return self._least_absolute(start, sigma, method)
        delta = HUBER_K * sigma if sigma > 0 else HUBER_K * max(squares.sigma, 1e-300)
        r = "(t__ - m__)"
        term = f"where(abs({r}) <= {delta!r}, 0.5*{r}**2, {delta!r}*(abs({r}) - {0.5 * delta!r}))"
        shapes = _Shapes(self._files, {"t__": (None,)})
        try:
            loss = compile(f"m__ = ({self.texts[1]})\nsum({term})", shapes, self.backend)
        except ParseError:
            raise UsageError("--loss huber takes a model of one expression",
                             "write the model as one formula of the columns") from None  # fmt: skip
        fit = loss.fit_likelihood({**self.columns, "t__": self.target}, start)
        fit.loss = "huber"
        fit.deviance = math.nan
        fitted, J = self._rows(fit)
        fit.fitted, fit.residuals = fitted, self.target - fitted
        fit.rss = float(fit.residuals @ fit.residuals)
        huber_statistics(fit, J, fit.residuals, delta)
        fit.notes.append(f"Huber's scale: {delta:.6g} (1.345 × the residuals' robust σ)")
        return fit

    def _least_absolute(self, start: dict, sigma: float, method: str):
        """Σ|tᵢ − mᵢ| by weighted least squares, each row weighted by 1/|its residual|,
        until the sum stops falling (its derivative has no Hessian to take)."""
        import numpy as np

        floor = 1e-12 * (sigma or 1.0)  # a residual at 0 gets this, not an infinite weight
        fit, total = None, math.inf
        for _ in range(200):
            r = self.target - (fit.fitted if fit else self._rows_at(start))
            weights = 1.0 / np.maximum(np.abs(r), floor)
            fit = self.model.fit(self.target, self.columns, start, weights=weights,
                                 method=method)  # fmt: skip
            start = dict(zip(fit.names, fit.estimates))
            new = float(np.sum(np.abs(self.target - fit.fitted)))
            if total - new <= 1e-13 * max(new, 1.0):
                break
            total = new
        fit.loss = "absolute"
        fit.residuals = self.target - fit.fitted
        fit.rss = float(np.sum(fit.residuals**2))
        fit.deviance = float(np.sum(np.abs(fit.residuals)))
        p = len(fit.names)
        fit.stderr = [math.nan] * p
        fit.tvalues, fit.ci95 = [math.nan] * p, [(math.nan, math.nan)] * p
        fit.cov = fit.corr = [[math.nan] * p for _ in range(p)]
        fit.notes = ["no standard errors for least absolute deviations: the loss has no "
                     "Hessian (use --loss huber for a robust fit with them)"]  # fmt: skip
        return fit

    def _rows(self, fit):
        """The model by row at a fit's estimates, and its Jacobian (one column each)."""
        import numpy as np

        model = self.model.row_model(self.columns, fit.names)
        m, dm = model(fit.estimates)
        n = len(self.target)
        return (np.broadcast_to(m, (n,)).copy(),
                np.column_stack([np.broadcast_to(d, (n,)) for d in dm]))  # fmt: skip

    def _rows_at(self, values: dict):
        import numpy as np

        names = list(values)
        m, _ = self.model.row_model(self.columns, names)([values[n] for n in names])
        return np.broadcast_to(m, self.target.shape)

    def check_curve(self) -> None:
        """A curve has one input: a model of several columns (or none) cannot be drawn."""
        if len(self.columns) != 1:
            reads = ", ".join(self.columns) or "none"
            raise UsageError(f"--plot draws a model of one input column; this one reads {reads}")

    def _negative_log_likelihood(self):
        """The loss as an adcli program of the model (its value m by row), the target
        (t__) and the weights (w__); and its value at the saturated model, which the
        deviance is measured from."""
        shapes = _Shapes(self._files, {"t__": (None,), "w__": (None,)})
        try:
            nll = compile(likelihood_text(self.loss, self.texts[1]), shapes, self.backend)
        except ParseError:
            raise not_one_expression(self.loss) from None
        return nll, saturated_nll(self.loss, self.target, self.weights)


def likelihood_text(loss: str, model: str) -> str:
    """A likelihood loss's negative log-likelihood as an adcli program of the model
    (its value ``m__`` by row), the target ``t__`` and the weights ``w__``."""
    term = {"logistic": "softplus(m__) - t__*m__", "poisson": "exp(m__) - t__*m__"}[loss]
    return f"m__ = ({model})\nsum(w__*({term}))"


def not_one_expression(loss: str) -> UsageError:
    return UsageError(f"--loss {loss} takes a model of one expression",
                      "write the model as one formula of the columns")  # fmt: skip


def check_likelihood_target(loss: str, t: Any, where: str = "") -> None:
    """A logistic fit's target is 0 or 1, a poisson fit's a count ≥ 0, in every row."""
    import numpy as np

    if loss == "logistic" and not np.isin(t, (0.0, 1.0)).all():
        raise UsageError(f"{where}a logistic fit's target is 0 or 1 in every row",
                         "fit a 0/1 column, e.g. (y > 0.5) ~ a + b*x")  # fmt: skip
    if loss == "poisson" and not (t >= 0).all():
        raise UsageError(f"{where}a poisson fit's target is a count ≥ 0 in every row")


def saturated_nll(loss: str, t: Any, w: Any = None) -> float:
    """The negative log-likelihood of the saturated model (every row fitted exactly),
    which the deviance is measured from: 0 for logistic."""
    import numpy as np

    from .kernels import xlogy

    if loss == "logistic":
        return 0.0
    with np.errstate(all="ignore"):  # xlogy(0, 0) is 0: its log of 0 is not used
        return float(np.sum((1.0 if w is None else w) * (t - xlogy(t, t))))


def check_loss(loss: str) -> None:
    """A ``UsageError`` for a loss ``fit`` does not know, naming the ones it does."""
    from .fit import LIKELIHOODS, ROBUST

    known = ("squares", *LIKELIHOODS, *ROBUST, "softmax")
    if loss not in known:
        raise UsageError(f"unknown loss {loss!r}", f"choose one of: {', '.join(known)}")


def fit_starts(params: list[str], start: Sequence[str] | None, columns: list[str],
               note) -> dict[str, float]:  # fmt: skip
    """The start values ``--start`` gives the parameters of a fit; a parameter it
    leaves out starts at 1, and ``note`` says so (SPEC §9), naming the ``columns``
    too: a misspelt column name is a parameter, and this is where it shows."""
    if not params:
        raise UsageError("the model has no parameters to fit: every variable is a column",
                         "a parameter is a variable that no data column has")  # fmt: skip
    given = values_of(start or [], params)
    for name in given:
        if name not in params:
            raise BindingError(f"{name} is given a start value but is not a parameter",
                               "the parameters are " + ", ".join(params))  # fmt: skip
    unstarted = [n for n in params if n not in given]
    if unstarted:
        where, names = ",".join(f"{n}=..." for n in unstarted), ", ".join(columns)
        note(f"note: {', '.join(unstarted)} {'starts' if len(unstarted) == 1 else 'start'} "
             f"at 1 (give --start {where}; the data's columns are {names})")  # fmt: skip
    return {n: float(v) for n, v in given.items()}


def parse_bounds(text: str) -> dict[str, tuple[float, float]]:
    """``b1=0:inf,b2=-1:1`` → each name's (low, high)."""
    found = {}
    for item in text.split(","):
        name, _, span = item.partition("=")
        low, colon, high = span.partition(":")
        try:
            pair = (float(low), float(high)) if colon else None
        except ValueError:
            pair = None
        if not name.strip() or pair is None or not pair[0] < pair[1]:
            raise UsageError(f"--bounds {item.strip()!r} is not NAME=LOW:HIGH with LOW < HIGH",
                             "e.g. --bounds b1=0:inf,b2=-1:1")  # fmt: skip
        found[name.strip()] = pair
    return found


def _top_level_items(text: str) -> list[str]:
    """``"0, a + b*x, max(c, d)"`` → its comma-separated parts outside brackets."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:].strip())
    return items
