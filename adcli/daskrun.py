"""The commands on ``--engine dask`` (SPEC §11): ``fit``, ``minimize --data`` (full
batch), ``eval`` and ``grad`` over the partitions of ``--data`` on a Dask cluster.
cli.py hands over to these when ``--engine dask`` is given; the engine itself is
``cluster.py``. What they print is what the local engine prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .cluster import (
    Cluster,
    Job,
    connect,
    fit_likelihood,
    fit_squares,
    loss_function,
    train,
    write_parts,
)  # fmt: skip
from .datarun import (
    Given,
    check_loss,
    fit_starts,
    parameters,
    parse_bounds,
    values_of,
    write_gradient_values,
    write_results,
)  # fmt: skip
from .errors import BindingError, EvaluationError, UsageError
from .numtext import rounded
from .render import Output


def fit(scheduler: str | None, workers: int | None, formula: str, data: Sequence[str],
        start: Sequence[str] | None, weights: str | None, bounds: str | None, method: str,
        loss: str, note, backend: str = "numpy") -> Any:  # fmt: skip
    """``adcli fit --engine dask``: least squares, as the local engine fits it."""
    from .fit import LIKELIHOODS, split

    check_loss(loss)
    if loss not in ("squares", *LIKELIHOODS):
        raise UsageError(f"--loss {loss} is fitted on one machine",
                         "leave out --engine dask; on Dask, fit by least squares (the default "
                         "loss), logistic or poisson")  # fmt: skip
    if loss in LIKELIHOODS and (bounds or method != "auto"):
        raise UsageError(f"--loss {loss} is fitted by Newton's method, without bounds",
                         "leave out --bounds and --method")  # fmt: skip
    target_text, model_text = split(formula)
    limits = parse_bounds(bounds) if bounds else {}
    with connect(scheduler, workers) as cluster:
        job = Job(cluster, data, backend=backend)
        model, target = job.compile(model_text), job.compile(target_text)
        model.single_output("fit")
        outside = [n for n in target.variables if n not in job.names]
        if outside:
            raise UsageError(f"the target reads {outside[0]}, which the data has not",
                             f"the data has {', '.join(job.names)}")  # fmt: skip
        if weights and weights not in job.names:
            raise UsageError(f"--weights {weights}: the data has no such column",
                             f"the data has {', '.join(job.names)}")  # fmt: skip
        params = [n for n in model.variables if n not in job.names]
        starts = fit_starts(params, start, job.names, note)
        for name in limits:
            if name not in params:
                raise BindingError(f"{name} is given bounds but is not a parameter",
                                   "the parameters are " + ", ".join(params))  # fmt: skip
        if loss in LIKELIHOODS:
            return fit_likelihood(job, loss, model_text, target_text, params, starts, weights)
        return fit_squares(job, model_text, target_text, params, starts, weights=weights,
                           bounds=limits, method=method)  # fmt: skip


def minimize(scheduler: str | None, workers: int | None, text: str, data: Sequence[str],
             given: Sequence[str] | None, start: Sequence[str] | None, seed: int, on_step,
             backend: str = "numpy", **options: Any) -> Any:  # fmt: skip
    """``adcli minimize --data --engine dask``: full-batch descent, each step's loss
    and gradient reduced over the partitions; a ``train.Training``."""
    with connect(scheduler, workers) as cluster:
        job, e, values = _open(cluster, text, data, given, start, backend)
        fixed = {n: v for n, v in values.items() if n in e.ir.variables}
        bound = parameters(e, _columns(job, e), fixed, seed, start, "--start", job.names)
        starts = {n: v for n, v in bound.items() if n not in fixed}
        return train(job, e, text, starts, fixed, seed, on_step, **options)


def eval_(scheduler: str | None, workers: int | None, text: str, data: Sequence[str],
          given: Sequence[str] | None, at: Sequence[str] | None, seed: int, out: Output,
          files: tuple[str | None, str], strict: bool, note,
          backend: str = "numpy") -> None:  # fmt: skip
    """``adcli eval --data --engine dask``: per-row outputs as a file per partition,
    written by the workers (``files``: the folder, and the files' format), or a sum or
    mean over every row, printed."""
    directory, file_format = files
    with connect(scheduler, workers) as cluster:
        job, e, values = _open(cluster, text, data, given, None, backend)
        params = parameters(e, _columns(job, e), values, seed, at, "--at", job.names)
        kinds = [e.over_parts(o) for o in e.outputs]
        if all(kind == "rows" for kind in kinds):
            if not directory:
                raise UsageError(
                    "on --engine dask, rows are written as a file per partition",
                    "give -o DIR/ (the workers write DIR/part-00000.csv, ...)",
                )
            rows, paths, warnings = write_parts(job, text, params, directory, file_format,
                                                out.digits, strict)  # fmt: skip
            for warning in warnings[:5]:
                note(f"warning: {warning}")
            note(f"wrote {rows} rows to {len(paths)} files: {paths[0]} … {paths[-1]}")
            return
        if len(kinds) > 1 or kinds[0] not in ("sum", "mean"):
            raise UsageError("on --engine dask, eval gives values that each depend on one row "
                             "of the data (a file per partition), or one sum(...) or mean(...) "
                             "of them", "x - mean(x) takes two passes: eval mean(x), then "
                             "x - m --with m=...")  # fmt: skip
        if directory:
            raise UsageError("-o DIR/ takes rows, and this expression has none",
                             "leave out -o: the result is printed")  # fmt: skip
        value_and_grad, _ = loss_function(job, e, text, [], params)
        value, _ = value_and_grad([], gradient=False)
        if not _finite(value):
            if strict:
                raise EvaluationError(f"non-finite result: {value}")
            note(f"warning: non-finite result: {value}")
        write_results([value], out)


def grad(scheduler: str | None, workers: int | None, text: str, data: Sequence[str],
         given: Sequence[str] | None, at: Sequence[str] | None, wrt: Sequence[str] | None,
         seed: int, out: Output, save: str | None, note,
         backend: str = "numpy") -> None:  # fmt: skip
    """``adcli grad --data --engine dask``: the loss's value and gradient by each
    parameter (or ``wrt``), reduced over the partitions."""
    with connect(scheduler, workers) as cluster:
        job, e, values = _open(cluster, text, data, given, None, backend)
        columns = _columns(job, e)
        params = parameters(e, columns, values, seed, at, "--at", job.names)
        names = list(e.wrt(wrt)) if wrt else [n for n in e.variables if n not in columns]
        held = [n for n in names if n in columns]
        if held:
            raise UsageError(f"{held[0]} is a column of the data: on --engine dask, grad "
                             "differentiates by parameters", "leave it out of --wrt")  # fmt: skip
        others = {n: v for n, v in params.items() if n not in names}
        value_and_grad, _ = loss_function(job, e, text, names, others)
        value, grads = value_and_grad([params[n] for n in names])
    grads = dict(zip(names, grads))
    write_gradient_values(value, grads, out, None, save, note)
    if out.fmt not in ("plain", "csv", "json"):  # a terminal's: the numbers, named
        out.say(f"f = {rounded(value, out.digits)}")
        for name, g in grads.items():
            out.say(f"∂f/∂{name} = {rounded(g, out.digits)}")
    if not _finite(value) or not all(_finite(g) for g in grads.values()):
        raise EvaluationError("the gradient is not finite at these parameters")


def _open(cluster: Cluster, text: str, data: Sequence[str], given: Sequence[str] | None,
          start: Sequence[str] | None, backend: str) -> tuple[Job, Any, Given]:  # fmt: skip
    """The job, the program compiled with the data's and the given arrays' shapes, and
    the values ``--with`` gives (the arrays of files ``--start`` names lend their shapes)."""
    from .datarun import _of_files

    values = values_of(given or [], None)
    of_start = values_of([s for s in start or [] if _of_files(s)], None)
    arrays = {n: v.shape for v_ in (values, of_start) for n, v in v_.items()
              if getattr(v, "ndim", 0)}  # fmt: skip
    job = Job(cluster, data, arrays, backend)
    e = job.compile(text)
    for name in [n for n in values if n not in e.ir.variables]:
        if name not in values.from_files:
            raise BindingError(f"--with gives {name}, which the expression does not use",
                               "its variables are " + ", ".join(e.variables))  # fmt: skip
        del values[name]  # a file of several arrays: the ones the program reads
    for name in e.params:
        if name in job.names:
            raise UsageError(f"{name} is both a param and a column of the data",
                             "rename one of them")  # fmt: skip
    return job, e, values


def _columns(job: Job, e: Any) -> dict[str, str]:
    """The data's columns the program reads, each with where it is (for messages)."""
    return {n: "the data" for n in job.names if n in e.ir.variables}


def _finite(value: Any) -> bool:
    import numpy as np

    return bool(np.isfinite(value).all())
