"""``--engine dask`` (SPEC §11): fits, training and per-row results over data that no
single machine holds, on Dask's distributed scheduler, not a scheduler of adcli's own.

The client never reads the data. A worker expands ``--data`` (a glob, a folder, a
file) into partitions (``partitions.py``); each partition is read by a worker once,
into the columns the command uses, and stays in that worker's memory (a future the
client holds) until the command ends. The expression travels as its text and is
compiled once per worker process (``_expression``'s cache), not once per task.

Each iteration is a map-reduce: every partition gives its share, the shares are
combined by a tree of tasks on the workers (``FAN_IN`` at a time), and the client
gets one small result and takes the step:

- least squares: the R factor of the QR of [J r] over the partition's rows (p + 1
  columns), its residual sum of squares and its rows. Stacked R factors have the
  R of all the rows as their own (the tall-skinny QR), so the client holds JᵀJ =
  RᵀR, Jᵀr and rᵀr without forming the normal equations (whose condition is the
  square), and runs the local engine's solvers and statistics on them
  (``fit.reduced_least_squares``);
- a loss that is sum(...) or mean(...) of per-row terms: its value and gradient.

A worker lost mid-run loses its partitions; the scheduler reads them again from
the files on another worker, and the run goes on with the same numbers.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from .errors import BindingError, UsageError
from .ops import shape_text
from .partitions import Part, expand, shapes, source

INSTALL = "pip install 'adcli[dask]'"
FAN_IN = 8  # shares combined by one task of the reduction tree
CONNECT_SECONDS = 10
FILE_FORMATS = {"csv": ".csv", "plain": ".txt", "json": ".jsonl"}  # per-row files, -o DIR/


def connect(scheduler: str | None = None, workers: int | None = None) -> Cluster:
    """A client of a running cluster (``scheduler``: its address, or the JSON file
    ``dask scheduler --scheduler-file`` writes), or of a local one of ``workers``
    processes (default: one per core), started here and stopped with the client."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--engine dask needs Dask's distributed scheduler",
                         f"install it: {INSTALL}") from None  # fmt: skip
    if scheduler and workers:
        raise UsageError("--scheduler joins a running cluster and --workers starts one",
                         "give one of them")  # fmt: skip
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be a whole number ≥ 1, got {workers}")
    if scheduler:
        _listening(scheduler)
        return Cluster(_client(Client, scheduler))
    import logging

    # ":0": the scheduler's HTTP server on a free port, so that two commands at once (or
    # a cluster already on 8787) start without a warning
    local = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                         processes=True, dashboard_address=":0",
                         silence_logs=logging.ERROR)  # fmt: skip
    return Cluster(Client(local), local)


def _client(Client: type, scheduler: str) -> Any:
    """A client of the scheduler at an address or in a scheduler file. It connects in a
    thread of its own, waited for a while: Dask's client waits for ever on a peer that
    takes the connection and never answers (a port of some other server)."""
    import threading

    found: dict[str, Any] = {}

    def attempt() -> None:
        try:
            if scheduler.endswith(".json"):
                found["client"] = Client(scheduler_file=scheduler, timeout=CONNECT_SECONDS)
            else:
                found["client"] = Client(scheduler, timeout=CONNECT_SECONDS)
        except Exception as e:  # said below, whatever Dask raised
            found["error"] = e

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS + 2)
    hint = "start one (dask scheduler), or give --workers N for a local cluster"
    if "client" in found:
        return found["client"]
    if thread.is_alive():
        raise UsageError(f"the Dask scheduler at {scheduler} does not answer", hint)
    raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {found['error']}", hint)


def _listening(address: str) -> None:
    """A ``tcp://HOST:PORT`` where nothing listens is said at once: Dask's client would
    retry it for its whole timeout."""
    import socket

    host, _, port = address.removeprefix("tcp://").rpartition(":")
    if not address.startswith("tcp://") or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except ConnectionRefusedError:
        raise UsageError(f"no Dask scheduler listens at {address}",
                         "start one (dask scheduler), or give --workers N for a local "
                         "cluster") from None  # fmt: skip
    except OSError:
        return  # a name or a route Dask's own client will say more about


class Cluster:
    """A Dask client, and the local cluster it started (if any): closed together."""

    def __init__(self, client: Any, local: Any = None) -> None:
        self.client, self.local = client, local

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()

    def partitions(self, spec: str) -> list[Part]:
        """``--data`` as a worker sees it: its partitions, in order."""
        return self.client.submit(expand, spec, pure=False).result()

    def shapes(self, part: Part) -> dict[str, tuple]:
        """The columns of a partition and their shapes, read on a worker (its header,
        its schema, its arrays' headers)."""
        return self.client.submit(shapes, part, pure=False).result()

    def load(self, parts: Sequence[Part], reader: Callable, *args: Any) -> list[Any]:
        """Each partition read by ``reader(part, *args)`` on a worker and kept there:
        the futures, in partition order (the client holds them; dropping them frees it)."""
        return [self.client.submit(reader, part, *args, pure=False) for part in parts]

    def reduce(self, loaded: Sequence[Any], share: Callable, combine: Callable,
               **arguments: Any) -> Any:  # fmt: skip
        """``share(partition, **arguments)`` of every loaded partition, combined by a
        tree of ``combine`` tasks on the workers, ``FAN_IN`` shares a task; the client
        is the root, combining the last ``FAN_IN`` or fewer (one trip less than a task)."""
        futures = self.client.map(share, loaded, pure=False, **arguments)
        while len(futures) > FAN_IN:
            futures = [self.client.submit(combine, *futures[i : i + FAN_IN], pure=False)
                       for i in range(0, len(futures), FAN_IN)]  # fmt: skip
        return combine(*self.client.gather(futures))

    def each(self, tasks: Sequence[tuple]) -> list[Any]:
        """``function(*args)`` for each ``(function, *args)``, on the workers: the results."""
        futures = [self.client.submit(task[0], *task[1:], pure=False) for task in tasks]
        return self.client.gather(futures)


# --- on the workers ----------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _expression(text: str, shapes: tuple, backend: str = "numpy") -> Any:
    """The program compiled once per worker process (its compiled code is cached in it)."""
    from .api import compile

    return compile(text, dict(shapes), backend)


def _columns(part: Part, used: tuple[str, ...]) -> dict[str, Any]:
    """The ``used`` columns of a partition, and its rows (``"rows__"``)."""
    from .data import Files

    data = Files.opened([source(part)]).load(used)
    missing = [n for n in used if n not in data]
    if missing:
        raise UsageError(f"{part.label} has no column {missing[0]}",
                         f"its columns are {', '.join(data.names)}")  # fmt: skip
    return {**data.columns, "rows__": data.rows}


def _arguments(e: Any, columns: dict[str, Any], values: dict[str, Any]) -> list[Any]:
    return [columns[n] if n in columns else values[n] for n in e.variables]


def _load_target(part: Part, model_columns: tuple, target: tuple, weights: str | None) -> dict:
    """A partition for a fit: the model's columns, the target's values by row
    (``target``: its text and shapes) and the weights as they are (``w__``, None
    without)."""
    import numpy as np

    t = _expression(*target)
    used = tuple(dict.fromkeys((*model_columns, *t.variables, *([weights] if weights else []))))
    columns = _columns(part, used)
    rows = columns["rows__"]
    values = t.compiled(t.outputs).whole(*(columns[n] for n in t.variables))[0]
    loaded = {n: columns[n] for n in model_columns}
    loaded["rows__"] = rows
    loaded["t__"] = np.broadcast_to(np.asarray(values, dtype=np.float64), (rows,))
    loaded["w__"] = None
    if weights:
        w = columns[weights]
        if not (np.isfinite(w).all() and (w >= 0).all()):
            raise UsageError("weights must be finite numbers ≥ 0", f"see {part.label}")
        loaded["w__"] = w
    return loaded


def _load_squares(part: Part, model_columns: tuple, target: tuple, weights: str | None) -> dict:
    """A partition for least squares: ``_load_target``'s, and the weights' roots,
    which scale the rows of [J r]."""
    import numpy as np

    loaded = _load_target(part, model_columns, target, weights)
    loaded["root_w__"] = None if loaded["w__"] is None else np.sqrt(loaded["w__"])
    return loaded


def _load_likelihood(part: Part, model_columns: tuple, target: tuple, weights: str | None,
                     loss: str) -> dict:  # fmt: skip
    """A partition for a likelihood fit: ``_load_target``'s, the target checked for
    the loss, the weights 1 where none are given."""
    import numpy as np

    from .datarun import check_likelihood_target

    loaded = _load_target(part, model_columns, target, weights)
    check_likelihood_target(loss, loaded["t__"], f"{part.label}: ")
    if loaded["w__"] is None:
        loaded["w__"] = np.ones(loaded["rows__"])
    return loaded


def _saturated(loaded: dict, loss: str) -> float:
    from .datarun import saturated_nll

    return saturated_nll(loss, loaded["t__"], loaded["w__"])


def _likelihood_share(loaded: dict, program: tuple, params: tuple, x: list) -> tuple:
    """The negative log-likelihood over the partition's rows, its gradient and Hessian."""
    import numpy as np

    e = _expression(*program)
    names = list(params)
    nodes = [*e.value_and_grad_nodes(names), *(n for row in e.hessian_nodes(names) for n in row)]
    p = len(names)
    with np.errstate(all="ignore"):
        values = e.compiled(nodes).whole(*_arguments(e, loaded, dict(zip(params, x))))
    return float(values[0]), np.array(values[1 : p + 1]), np.array(values[p + 1 :]).reshape(p, p)


def _add_likelihoods(*shares: tuple) -> tuple:
    return tuple(sum(s[i] for s in shares) for i in range(3))


def _right_side(loaded: dict, model: tuple, params: tuple, x: list) -> int:
    """The rows a logistic model puts on the right side of 0.5."""
    import numpy as np

    e = _expression(*model)
    m = e.compiled(e.outputs).whole(*_arguments(e, loaded, dict(zip(params, x))))[0]
    m = np.broadcast_to(m, loaded["t__"].shape)
    return int(np.count_nonzero((m > 0) == (loaded["t__"] == 1.0)))


def _moments(loaded: dict) -> tuple[int, float, float, float]:
    """Rows, the weights' sum, the target's weighted mean and sum of squares about it."""
    import numpy as np

    t, w = loaded["t__"], loaded["w__"]
    w = np.ones_like(t) if w is None else w
    total = float(np.sum(w))
    mean = float(np.sum(w * t) / total) if total > 0 else 0.0
    return loaded["rows__"], total, mean, float(np.sum(w * (t - mean) ** 2))


def _merge_moments(*parts: tuple) -> tuple[int, float, float, float]:
    """Chan, Golub and LeVeque's pairwise update: no sum of squares about zero to
    cancel."""
    rows, total, mean, m2 = parts[0]
    for n, w, mu, s in parts[1:]:
        both = total + w
        if w > 0:
            delta = mu - mean
            m2 += s + delta * delta * total * w / both
            mean += delta * w / both
        rows, total = rows + n, both
    return rows, total, mean, m2


def _squares_share(loaded: dict, model: tuple, params: tuple, x: Any) -> tuple:
    """The R factor of [J r] over the partition's rows (J the residuals' Jacobian, as
    the local engine's), its residual sum of squares, its rows."""
    import numpy as np

    from .fit import augmented_r

    e = _expression(*model)
    values = dict(zip(params, (float(v) for v in x)))
    compiled = e.compiled(_model_nodes(e, params))
    columns = {n: v for n, v in loaded.items() if n in e.ir.variables}

    def evaluate(rows: slice) -> tuple[Any, list[Any]]:
        m, *dm = compiled.whole(*_arguments(e, {n: v[rows] for n, v in columns.items()}, values))
        return m, dm

    with np.errstate(all="ignore"):
        R, rss = augmented_r(evaluate, loaded["t__"], loaded["root_w__"])
    return R, rss, loaded["rows__"]


def _model_nodes(e: Any, params: tuple) -> list[int]:
    """The model's value and its forward tangent along each parameter (as ``row_model``)."""
    from .autodiff import tangents_of

    output = e.single_output("fit")
    return [output, *(tangents_of(e.tangents(p), e.ir, [output])[0] for p in params)]


def _stack_squares(*shares: tuple) -> tuple:
    import numpy as np

    with np.errstate(all="ignore"):
        R = np.linalg.qr(np.vstack([s[0] for s in shares]), mode="r")
    return R, sum(s[1] for s in shares), sum(s[2] for s in shares)


def _loss_share(loaded: dict, program: tuple, params: tuple, x: list, fixed: dict,
                mean: bool, gradient: bool) -> tuple:  # fmt: skip
    """The loss over the partition's rows as a sum (a mean times its rows), with its
    gradient by each parameter; and the rows."""
    import numpy as np

    e = _expression(*program)
    values = {**fixed, **dict(zip(params, x))}
    nodes = e.value_and_grad_nodes(list(params)) if gradient else list(e.outputs)
    with np.errstate(all="ignore"):
        f, *g = e.compiled(nodes).whole(*_arguments(e, loaded, values))
        scale = loaded["rows__"] if mean else 1
        return loaded["rows__"], float(f) * scale, [np.multiply(gi, scale) for gi in g]


def _add_losses(*shares: tuple) -> tuple:
    rows, f, g = shares[0]
    for n, fi, gi in shares[1:]:
        rows, f, g = rows + n, f + fi, [a + b for a, b in zip(g, gi)]
    return rows, f, g


def _write_part(part: Part, path: str, program: tuple, values: dict, fmt: str, digits: int,
                strict: bool) -> tuple[int, list[str]]:  # fmt: skip
    """The rows of a partition's per-row outputs, written to ``path`` by the worker:
    its rows, and the warnings it had."""
    from .datarun import Bound, write_values
    from .render import Output

    e = _expression(*program)
    columns = _columns(part, tuple(n for n in e.variables if n not in values))
    rows = columns.pop("rows__")
    said: list[str] = []
    with open(path, "w", encoding="utf-8") as f:
        out = Output(fmt, digits, True, out=f)
        write_values(Bound(e, columns, values, rows), out, strict, said.append)
    return rows, [f"{part.label}: {s.removeprefix('warning: ')}" for s in said]


# --- on the client ------------------------------------------------------------------------


class Job:
    """A command's data on the cluster: its partitions and their columns' names (every
    partition is taken to have the first one's), and the shapes the program is
    compiled with (the columns', rows first; ``arrays``: the given arrays' shapes)."""

    def __init__(self, cluster: Cluster, data: Sequence[str] | None,
                 arrays: dict[str, tuple] | None = None,
                 backend: str = "numpy") -> None:  # fmt: skip
        if not data:
            raise UsageError("--engine dask works on --data", "give --data 'part-*.csv'")
        if len(data) > 1:
            raise UsageError("on --engine dask, --data is one file, folder or pattern: the "
                             "partitions of one table",
                             "put the columns side by side in each partition")  # fmt: skip
        self.cluster = cluster
        spec = data[0].strip()
        if "://" not in spec:  # a worker's working folder is not the command's: where it is
            spec = os.path.abspath(spec)
        self.parts = cluster.partitions(spec)
        columns = cluster.shapes(self.parts[0])
        self.names = list(columns)
        self.shapes = {**columns, **(arrays or {})}
        self.backend = backend  # who runs the arrays on the workers

    def key(self, text: str) -> tuple:
        """What a worker compiles: the text, the shapes (hashable) and the backend."""
        return text, tuple(sorted(self.shapes.items())), self.backend

    def compile(self, text: str) -> Any:
        return _expression(*self.key(text))


def fit_squares(job: Job, model_text: str, target_text: str, params: list[str],
                start: dict[str, float], *, weights: str | None = None,
                bounds: dict[str, tuple[float, float]] | None = None,
                method: str = "auto") -> Any:  # fmt: skip
    """Least squares over the partitions: the local engine's fit (``fit.Fit``), its
    fitted values and residuals left on the workers."""
    import numpy as np

    from .fit import reduced_least_squares

    model = job.compile(model_text)
    columns = tuple(n for n in model.variables if n not in params)
    loaded = job.cluster.load(job.parts, _load_squares, columns, job.key(target_text), weights)
    rows, _, _, total = job.cluster.reduce(loaded, _moments, _merge_moments)
    key = job.key(model_text)
    names = tuple(params)

    def system(x: np.ndarray) -> tuple[Any, float]:
        R, rss, _ = job.cluster.reduce(loaded, _squares_share, _stack_squares, model=key,
                                       params=names, x=x.tolist())  # fmt: skip
        return R, rss

    lower = [(bounds or {}).get(n, (-math.inf, math.inf))[0] for n in params]
    upper = [(bounds or {}).get(n, (-math.inf, math.inf))[1] for n in params]
    return reduced_least_squares(system, rows, params, [start.get(n, 1.0) for n in params],
                                 total=total, bounds=(lower, upper), method=method)  # fmt: skip


def fit_likelihood(job: Job, loss: str, model_text: str, target_text: str, params: list[str],
                   start: dict[str, float], weights: str | None = None) -> Any:  # fmt: skip
    """A logistic or poisson fit over the partitions, by the local engine's Newton
    method on the reduced value, gradient and Hessian of the negative log-likelihood:
    its deviance (from the saturated model) and, for logistic, its accuracy."""
    from .datarun import likelihood_text, not_one_expression
    from .errors import ParseError
    from .fit import maximum_likelihood

    shapes = tuple(sorted({**job.shapes, "t__": (None,), "w__": (None,)}.items()))
    program = (likelihood_text(loss, model_text), shapes, job.backend)
    try:
        _expression(*program)
    except ParseError:
        raise not_one_expression(loss) from None
    model = job.compile(model_text)
    columns = tuple(n for n in model.variables if n not in params)
    loaded = job.cluster.load(job.parts, _load_likelihood, columns, job.key(target_text),
                              weights, loss)  # fmt: skip
    rows = job.cluster.reduce(loaded, _rows, _total)
    saturated = job.cluster.reduce(loaded, _saturated, _total, loss=loss)
    names = tuple(params)

    def value_grad_hess(x: Any) -> tuple:
        return job.cluster.reduce(loaded, _likelihood_share, _add_likelihoods, program=program,
                                  params=names, x=[float(v) for v in x])  # fmt: skip

    fit = maximum_likelihood(value_grad_hess, params, [start.get(n, 1.0) for n in params], rows)
    fit.loss = loss
    fit.deviance -= 2.0 * saturated
    if loss == "logistic":
        right = job.cluster.reduce(loaded, _right_side, _total, model=job.key(model_text),
                                   params=names, x=fit.estimates)  # fmt: skip
        fit.accuracy = right / rows
    return fit


def loss_function(job: Job, e: Any, text: str, params: list[str], fixed: dict[str, Any]):
    """``(value_and_grad, rows)``: the loss, sum(...) or mean(...) of per-row terms,
    and its gradient by ``params`` at a point, reduced over the partitions."""
    output = e.single_output("minimize")
    kind = e.over_parts(output)
    if kind not in ("sum", "mean"):
        raise UsageError("on --engine dask the loss is sum(...) or mean(...) of terms that "
                         "each depend on one row of the data, so each partition's share adds up",
                         "a penalty goes inside the sum, once a row: "
                         "sum((w*x + b - y)**2 + lam*w**2/ROWS)")  # fmt: skip
    columns = tuple(n for n in e.variables if n in job.names and n not in fixed)
    loaded = job.cluster.load(job.parts, _columns, columns)
    rows = job.cluster.reduce(loaded, _rows, _total)
    mean = kind == "mean"
    key, names = job.key(text), tuple(params)

    def value_and_grad(x: list[Any], batch: Any = None, gradient: bool = True) -> tuple:
        _, f, g = job.cluster.reduce(loaded, _loss_share, _add_losses, program=key, params=names,
                                     x=x, fixed=fixed, mean=mean, gradient=gradient)  # fmt: skip
        return (f / rows, [gi / rows for gi in g]) if mean else (f, g)

    return value_and_grad, rows  # its closure holds the partitions' futures: they stay


def _rows(loaded: dict) -> int:
    return loaded["rows__"]


def _total(*shares: Any) -> Any:
    return sum(shares)


def train(job: Job, e: Any, text: str, start: dict[str, Any] | None, fixed: dict[str, Any],
          seed: int, on_step: Any = None, **options: Any) -> Any:  # fmt: skip
    """Full-batch descent (``minimize --data``) with each step's loss and gradient
    reduced over the partitions: a ``train.Training``, as the local engine's."""
    import numpy as np

    from .api import training_settings
    from .train import Batching
    from .train import train as descend

    held = {**{n: None for n in job.names if n in e.ir.variables}, **fixed}
    params, given = e.training_starts(held, start, seed)
    settings = training_settings(options)
    for name in params:
        have, want = np.shape(given[name]), tuple(e.ir.shape[e.ir.variables[name]])
        if have != want:
            raise BindingError(f"{name} has shape {shape_text(have)}; the expression takes "
                               f"{shape_text(want)}")  # fmt: skip
    value_and_grad, rows = loss_function(job, e, text, params, fixed)
    run = descend(value_and_grad, {n: given[n] for n in params}, [], rows, settings,
                  Batching(), on_step)  # fmt: skip
    run.per_row = e.ir.op[e.single_output("minimize")] == "sum"
    return run


def write_parts(job: Job, text: str, values: dict[str, Any], directory: str, fmt: str,
                digits: int, strict: bool) -> tuple[int, list[str], list[str]]:  # fmt: skip
    """Each partition's per-row outputs, one file per partition into ``directory``,
    written by the workers: the rows, the files (in partition order), the warnings."""
    if fmt not in FILE_FORMATS:
        raise UsageError(f"--format {fmt} is for a terminal; files per partition are "
                         "csv, plain or json", "e.g. --format csv")  # fmt: skip
    os.makedirs(directory, exist_ok=True)
    width = max(5, len(str(len(job.parts) - 1)))
    paths = [os.path.join(directory, f"part-{i:0{width}d}{FILE_FORMATS[fmt]}")
             for i in range(len(job.parts))]  # fmt: skip
    key = job.key(text)
    done = job.cluster.each([(_write_part, part, os.path.abspath(path), key, values, fmt,
                              digits, strict) for part, path in zip(job.parts, paths)])  # fmt: skip
    return sum(r for r, _ in done), paths, [w for _, said in done for w in said]
