"""``adcli codegen``: the value and the gradient as a self-contained Python module.

The function is the evaluator's own plan printed as text, so it computes what
``grad`` computes, in the same order, with the same bits:

- the scalar form prints ``Compiled.steps`` of the value and the adjoints (the
  nodes reverse mode appended to the graph), one statement per node, with the ops'
  inline templates (``{0} * {1}``) or calls to ``math``;
- the ``numpy`` form prints ``Compiled.chunk_plan()``: the same steps in place, in
  chunks of ``CHUNK`` points, buffers reused once their last reader has run.

Ops that ``math`` or numpy lack become helpers in the module, copied from adcli's
own ``ops.py`` and ``kernels.py`` (only the ones used, with what they need), so
they cannot drift from what adcli runs. Every statement carries the number of its
node in the per-node table of ``adcli grad``; a backward statement carries the
number of the node whose rule it applies, as seed 000's hand-written pass does.

Nothing here imports numpy: the numpy form is text.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import math
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from .api import Expression
from .errors import UsageError
from .evaluate import CHUNK, _literal
from .graph import ROWS, VAR, without_gc
from .ops import OPS, shape_text

_MODULE_LEVEL = {"_inf": "math.inf", "_nan": "math.nan", "_exp": "math.exp"}
# builtins the function's body may call: no parameter or local may hide them
_BUILTINS_IN_BODY = {"abs", "int", "max", "min", "range"}


@without_gc
def python_module(
    e: Expression, wrt: Sequence[str] | None = None, name: str = "f", numpy: bool = False
) -> str:
    """The text of a module whose function ``name`` returns ``(value, (∂f/∂v, ...))``."""
    if not name.isidentifier() or keyword.iskeyword(name) or _normal(name) != name:
        raise UsageError(
            f"--name {name!r} is not a Python identifier", "e.g. --name value_and_grad"
        )
    if hasattr(builtins, name) or name.startswith("__") and name.endswith("__"):
        raise UsageError(f"--name {name} would hide Python's {name}", "choose another name")
    if not numpy:
        e.numbers_only("codegen writes straight-line code for numbers",
                       "codegen --numpy writes numpy code for arrays")  # fmt: skip
    arrays = not e.ir.numbers
    names = e.wrt(wrt if wrt or not arrays else _parameters(e))
    outputs = e.value_and_grad_nodes(names)
    compiled = e.compiled(outputs)
    module = _Module(numpy, chunks=not arrays)
    used = dict.fromkeys(op for _, op, _ in compiled.steps)  # each op once, in order
    if numpy:
        calls = {op: module.array_call(op) for op in used}
    else:
        calls = {op: module.scalar_call(op) for op in used}
    if name in module.names or name == "_main":
        raise UsageError(f"--name {name} is taken: the module uses it", "choose another name")
    taken = set(module.names) | _BUILTINS_IN_BODY  # what the function reads from outside
    params = _Names(taken).params(e.variables)
    body = _Body(e, names, compiled, params, taken | set(params))
    if arrays:
        lines = body.whole(calls)
    else:
        lines = body.array(calls) if numpy else body.scalar(calls)
    gradient = ", ".join(f"∂f/∂{v}" for v in names) + ("," if len(names) == 1 else "")
    kind = "arrays of points, broadcast together" if numpy else "one point"
    if arrays:
        kind = "arrays of the shapes " + ", ".join(
            f"{p} {shape_text(e.ir.shape[e.ir.variables[v]])}" for p, v in zip(params, e.variables)
        )
    head = [
        f"def {name}({', '.join(params)}):",
        f'    """The value and the gradient ({gradient}) for {kind}."""'
        if arrays else f'    """The value and the gradient ({gradient}) at {kind}."""',
    ]  # fmt: skip
    text = [*_header(e, name, params, gradient, numpy, arrays), *module.text("\n".join(lines))]
    main = [] if arrays else ["", "", *_main(e.variables, name)]
    return "\n".join([*text, "", "", *head, *lines, *main]) + "\n"


def _parameters(e: Expression) -> list[str]:
    """The variables of an array program that are not data (no rows): what is trained."""
    g = e.ir
    return [v for v in e.variables if ROWS not in g.shape[g.variables[v]]] or list(e.variables)


def _normal(name: str) -> str:
    return unicodedata.normalize("NFKC", name)


class _Names:
    """Fresh local names: the first free one of ``base``, ``base_``, ``base__``, ..."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def fresh(self, base: str) -> str:
        name = base
        while name in self.taken or keyword.iskeyword(name):
            name += "_"
        self.taken.add(name)
        return name

    def counted(self, prefix: str, start: int) -> tuple[str, int]:
        """``prefix<k>`` for the first free k ≥ start, and the next k to try."""
        while f"{prefix}{start}" in self.taken:
            start += 1
        self.taken.add(f"{prefix}{start}")
        return f"{prefix}{start}", start + 1

    def params(self, variables: Sequence[str]) -> list[str]:
        """The variables as parameter names, renamed where Python would not take them."""
        found = []
        for i, v in enumerate(variables):
            ok = v.isidentifier() and _normal(v) == v
            found.append(self.fresh(v if ok else f"x{i + 1}"))
        return found


class _Definitions:
    """The top-level statements of one of adcli's modules, by the names they bind."""

    def __init__(self, path: Path) -> None:
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        self.text: dict[str, str] = {}
        self.uses: dict[str, list[str]] = {}
        for stmt in ast.parse(source).body:
            if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
                bound = [stmt.name]
            elif isinstance(stmt, ast.Assign):
                bound = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            else:
                continue
            text = "\n".join(lines[stmt.lineno - 1 : stmt.end_lineno])
            loads = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
            for b in bound:
                self.text[b] = text
                self.uses[b] = sorted(loads - {b})

    def with_needs(self, name: str, done: list[str]) -> None:
        """Append ``name`` and the definitions it needs to ``done``, needs first."""
        stack = [(name, False)]
        while stack:
            item, ready = stack.pop()
            if item in done:
                continue
            if ready:
                done.append(item)
                continue
            stack.append((item, True))
            stack += [(u, False) for u in self.uses[item] if u in self.text and u not in done]


class _Module:
    """The module-level part: imports and helpers, only those the function uses."""

    def __init__(self, numpy: bool, chunks: bool = True) -> None:
        here = Path(__file__).resolve().parent
        self.source = _Definitions(here / ("kernels.py" if numpy else "ops.py"))
        self.helpers: list[str] = []  # names from self.source, needs first
        self.made: dict[str, str] = {}  # helpers made from an inline template
        self.aliases: list[str] = []  # _exp, _inf, _nan
        self.numpy = numpy
        self.chunks = chunks  # a function of points in chunks, not one of whole arrays

    @property
    def names(self) -> list[str]:
        return ["math", "np", "sys", "CHUNK", *self.helpers, *self.made, *self.aliases]

    def alias(self, text: str) -> None:
        for alias in _MODULE_LEVEL:
            if re.search(rf"\b{alias}\b", text) and alias not in self.aliases:
                self.aliases.append(alias)

    def scalar_call(self, op: str) -> str:
        """How a statement computes ``op``: a template of ``{0}``, ``{1}``."""
        spec = OPS[op]
        args = ("x",) if spec.arity == 1 else ("a", "b")
        call = "({})".format(", ".join(f"{{{i}}}" for i in range(spec.arity)))
        if spec.inline is not None:
            if not re.search(r"[A-Za-z_]", re.sub(r"\{\d\}", "", spec.inline)):
                return spec.inline  # operators: written inline, as by hand
            body = spec.inline.format(*args)
            self.made[f"_{op}"] = f"def _{op}({', '.join(args)}):\n    return {body}"
            self.alias(body)
            return f"_{op}" + call
        function = spec.scalar.__name__
        if getattr(math, function, None) is spec.scalar:
            return f"math.{function}" + call
        if function in _BUILTINS_IN_BODY and getattr(builtins, function) is spec.scalar:
            return function + call
        # Else a function of ops.py (the row's contract): its source is copied.
        self.source.with_needs(function, self.helpers)
        return function + call

    def array_call(self, op: str) -> str:
        """The function the numpy form calls for ``op``: the row's numpy function, or
        its kernel from kernels.py, copied with what it needs."""
        spec = OPS[op]
        if spec.numpy is not None:
            return f"np.{spec.numpy}"
        if spec.kernel is not None:
            self.source.with_needs(spec.kernel, self.helpers)
            return spec.kernel
        # neither: the scalar form applied to each element, as the evaluator does
        self.source.with_needs("elementwise", self.helpers)
        scalar = spec.scalar.__name__
        if getattr(math, scalar, None) is not spec.scalar:
            raise ValueError(f"codegen --numpy: {op}'s scalar form is not a math function")
        self.made[f"_{op}"] = f"_{op} = elementwise(math.{scalar})"
        return f"_{op}"

    def text(self, body: str) -> list[str]:
        """Imports, then helpers; ``body`` is the function's text (does it use math?)."""
        parts = [self.source.text[h] for h in self.helpers] + list(self.made.values())
        for part in parts:
            self.alias(part)
        used = "\n".join([body, *parts, *(_MODULE_LEVEL[a] for a in self.aliases)])
        lines = []
        if _uses_math(used):
            lines.append("import math")
        if self.numpy:
            lines.append("import numpy as np")
            if self.chunks:
                lines += ["", f"CHUNK = {CHUNK}  # points per chunk"]
        if self.aliases:
            lines.append("")
            lines += [f"{a} = {_MODULE_LEVEL[a]}" for a in self.aliases]
        seen = []
        for part in parts:
            if part not in seen:  # one statement may bind two names
                seen.append(part)
                lines += ["", "", part]
        return lines


def _uses_math(text: str) -> bool:
    """Whether ``text`` uses ``math.`` (not as the end of a longer name). A regex
    that starts with a word boundary tries every position; ``find`` jumps, which
    counts for a 10^5-node function's megabytes of text."""
    at = text.find("math.")
    while at >= 0:
        if at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_"):
            return True
        at = text.find("math.", at + 1)
    return False


class _Body:
    """The function's statements: names and comments for the planned steps."""

    def __init__(self, e, wrt, compiled, params: list[str], taken: set[str]) -> None:
        self.e, self.g, self.compiled = e, e.ir, compiled
        self.wrt = list(wrt)
        self.grad = e.gradient(wrt)
        self.names = _Names(taken)
        self.params = params
        number = e.numbers
        self.number = number
        # the forward nodes each backward node is the adjoint of; variables first
        adjoint_of: dict[int, list[int]] = {}
        for k, a in self.grad.adjoint.items():
            adjoint_of.setdefault(a, []).append(k)
        for nodes in adjoint_of.values():
            nodes.sort(key=lambda k: (self.g.op[k] != VAR, -number.get(k, 0)))
        self.adjoint_of = adjoint_of

    def comments(self, nodes: list[int]) -> dict[int, str]:
        """``#3 mul(#1, #2)`` for a forward node; a backward node gets the number of
        the node whose rule made it and what it is, e.g. ``#6 ∂f/∂#3 = ∂#6/∂#3``."""
        g, grad, number = self.g, self.grad, self.number
        made_by: dict[int, int] = {}  # backward node -> forward node (its rule)
        comments = {}
        consumers: dict[int, int] = {}
        for n in nodes:
            for a in g.args[n]:
                consumers.setdefault(a, n)
        for n in reversed(nodes):  # consumers first, for nodes made by another transform
            if n in number:
                comments[n] = f"#{number[n]} {g.op[n]}({', '.join(self.e.inputs_text(n))})"
                continue
            adjoint = "".join(f"∂f/∂#{number[k]} = " for k in self.adjoint_of.get(n, []))
            origin = grad.origin.get(n)
            if origin is None:
                k = self.adjoint_of.get(n, [None])[0]
                k = k if k is not None else made_by.get(consumers.get(n), grad.output)
                made_by[n] = k
                comments[n] = f"#{number[k]} {adjoint.removesuffix(' = ')}".rstrip()
                continue
            k, kind, i = origin
            made_by[n] = k
            if kind == "sum":
                terms = len(grad.contributions[k])
                what = (
                    f"the sum of {terms} terms" if adjoint else f"a partial sum of ∂f/∂#{number[k]}"
                )
            elif i < 0:  # an array op's vector-Jacobian product, all inputs at once
                what = f"∂f/∂#{number[k]} back through {g.op[k]}"
            else:
                what = f"∂#{number[k]}/∂#{number[g.args[k][i]]}"
                if kind == "product":
                    what = f"∂f/∂#{number[k]} · {what}"
                elif grad.partial.get((k, i)) != n:
                    what = f"part of {what}"
            comments[n] = f"#{number[k]} {adjoint}{what}"
        return comments

    def local_names(self, nodes: list[int]) -> dict[int, str]:
        g, number = self.g, self.number
        name = dict(zip(self.compiled.params, self.params))
        for n in nodes:  # program names first: they are the reader's
            label = g.label[n]
            if n in number and label and label.isidentifier() and _normal(label) == label:
                name[n] = self.names.fresh(label)
        k = 1
        for n in nodes:
            if n in name:
                continue
            if n in number:
                name[n] = self.names.fresh(f"v{number[n]}")
            elif n in self.adjoint_of:
                name[n] = self.names.fresh("d" + name[self.adjoint_of[n][0]])
            else:
                name[n], k = self.names.counted("p", k)
        return name

    def header(self, n: int, indent: str) -> list[str]:
        if n == self.first_backward:
            seed = f"∂f/∂#{self.number[self.grad.output]} = 1"
            return [f"{indent}# backward pass: adjoints ∂f/∂node, from {seed}"]
        if n == self.first_forward:
            return [f"{indent}# forward pass"]
        return []

    def _sections(self, nodes: list[int]) -> None:
        forward = [n for n in nodes if n in self.number]
        backward = [n for n in nodes if n not in self.number]
        self.first_forward = forward[0] if forward else None
        self.first_backward = backward[0] if backward else None

    def _straight(self):
        """The steps of a straight-line body, their comments and names, and how a
        step refers to a node (its name, or a constant's literal)."""
        steps = self.compiled.steps
        nodes = [n for n, _, _ in steps]
        self._sections(nodes)
        comments, name = self.comments(nodes), self.local_names(nodes)

        def ref(node: int) -> str:
            return name[node] if node in name else _literal(self.g.value[node])

        return steps, comments, name, ref

    def scalar(self, calls: dict[str, str]) -> list[str]:
        steps, comments, name, ref = self._straight()
        lines = []
        for n, op, args in steps:
            lines += self.header(n, "    ")
            code = calls[op].format(*(ref(a) for a in args))
            lines.append(f"    {name[n]} = {code}  # {comments[n]}")
        value, *grads = (ref(o) for o in self.compiled.outputs)
        lines.append(f"    return {value}, {_tuple(grads)}")
        return lines

    def array(self, calls: dict[str, str]) -> list[str]:
        steps, copies, n_buffers = self.compiled.chunk_plan()
        nodes = [n for n, _, _, _ in steps]
        self._sections(nodes)
        comments = self.comments(nodes)
        fresh = self.names.fresh
        shape, size, width, start, stop = (
            fresh(w) for w in ("shape", "size", "width", "start", "stop")
        )
        outputs = [fresh("value")] + [fresh(f"d{p}") for p in self._wrt_params()]
        storage = {f"a{i}": fresh(f"a{i}") for i in range(len(self.params))}
        storage.update({f"o{k}": fresh(f"o{k}") for k in range(len(outputs))})
        storage.update({f"b{j}": fresh(f"b{j}") for j in range(n_buffers)})

        def ref(x: str | float) -> str:
            return _literal(x) if isinstance(x, float) else storage[x]

        p, o = self.params, outputs
        buffers = [storage[f"b{j}"] for j in range(n_buffers)]
        lines = [f"    {x} = np.asarray({x}, dtype=np.float64)" for x in p]
        lines.append(f"    {shape} = np.broadcast_shapes({', '.join(x + '.shape' for x in p)})")
        lines += [f"    {x} = np.broadcast_to({x}, {shape}).reshape(-1)" for x in p]
        lines.append(f"    {size} = int(np.prod({shape}))")
        lines += _assign(o, f"np.empty({size})", 4)
        lines.append(f"    {width} = min({size}, CHUNK)")
        if buffers:
            lines.append("    # buffers, each reused once the last reader of its node has run")
            lines += _assign(buffers, f"np.empty({width})", 4)
        lines.append('    with np.errstate(all="ignore"):  # inf and nan, as IEEE says')
        lines.append(f"        for {start} in range(0, {size}, CHUNK):")
        lines.append(f"            {stop} = min({start} + CHUNK, {size})")
        if buffers:
            lines.append(f"            if {stop} - {start} < {width}:  # the last chunk is shorter")
            lines += _assign(buffers, f"{{}}[: {stop} - {start}]", 16)
        chunk = [storage[f"a{i}"] for i in range(len(p))]
        for mine, full in ((chunk, p), ([storage[f"o{k}"] for k in range(len(o))], o)):
            if mine:
                names = ", ".join(mine)
                slices = ", ".join(f"{x}[{start}:{stop}]" for x in full)
                lines.append(f"            {names} = {slices}")
        for n, op, target, inputs in steps:
            lines += self.header(n, " " * 12)
            call = f"{calls[op]}({', '.join(map(ref, inputs))}, out={storage[target]})"
            lines.append(f"            {call}  # {comments[n]}")
        what = ["the value"] + [f"∂f/∂{v}" for v in self.wrt]
        for target, source in copies:
            k = int(target[1:])
            lines.append(f"            {storage[target]}[...] = {ref(source)}  # {what[k]}")
        value, *grads = (f"{x}.reshape({shape})" for x in o)
        lines.append(f"    return {value}, {_tuple(grads)}")
        return lines

    def whole(self, calls: dict[str, str]) -> list[str]:
        """A program with arrays: one numpy call per node on the whole arrays."""
        steps, comments, name, ref = self._straight()
        lines = [f"    {x} = np.asarray({x}, dtype=np.float64)" for x in self.params]
        lines.append('    with np.errstate(all="ignore"):  # inf and nan, as IEEE says')
        for n, op, args in steps:
            lines += self.header(n, "        ")
            refs = [ref(a) for a in args]
            if n in self.g.attrs:
                refs.append(repr(self.g.attrs[n]))
            lines.append(f"        {name[n]} = {calls[op]}({', '.join(refs)})  # {comments[n]}")
        value, *grads = (ref(o) for o in self.compiled.outputs)
        lines.append(f"    return {value}, {_tuple(grads)}")
        return lines

    def _wrt_params(self) -> list[str]:
        return [dict(zip(self.e.variables, self.params))[v] for v in self.wrt]


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _assign(names: list[str], value: str, indent: int) -> list[str]:
    """Each name gets ``value`` (``{}`` in it: the name itself): one line, or one each."""
    pad = " " * indent
    if len(names) > 1:
        many = f"({value.format('b')} for b in {_tuple(names)})" if "{}" in value else None
        many = many or f"({value} for _ in range({len(names)}))"
        line = f"{pad}{', '.join(names)} = {many}"
        if len(line) <= 100:
            return [line]
    return [f"{pad}{name} = {value.format(name)}" for name in names]


def _header(e: Expression, name: str, params: list[str], gradient: str, numpy: bool,
            arrays: bool = False) -> list[str]:  # fmt: skip
    shown = e.text.strip().splitlines() or [""]
    if len(shown) > 3 or len(shown[0]) > 200:
        shown = [shown[0][:200] + " …"]
    call = f"{name}({', '.join(params)})"
    lines = ["# Generated by `adcli codegen" + (" --numpy" if numpy else "") + "` from", "#"]
    lines += [f"#     {line}" for line in shown]
    lines += [
        "#",
        f"# {call} returns (value, ({gradient})): the forward pass, then the",
        "# backward pass, one line per node. `# #3` is node 3 of the table of",
        "# `adcli grad`; a backward line names the node whose rule it applies.",
    ]
    if arrays:
        lines.append("# It works on whole numpy arrays, one call per node.")
    elif numpy:
        lines.append("# It works on numpy arrays, in chunks, in place.")
    else:
        lines.append("# Where math raises (log(0), 1/0, overflow), so does the function.")
    return lines + [""]


_MAIN = '''
def _main(argv):
    """Print the value and the gradient at one point, as `adcli grad` prints them."""
    import sys

    names = __NAMES__
    items = [item for arg in argv for item in arg.split(",") if item.strip()]
    try:
        if items and all("=" in item for item in items):
            given = {}
            for item in items:
                key, _, number = item.partition("=")
                if key.strip() in given or key.strip() not in names:
                    raise ValueError(key)
                given[key.strip()] = float(number)
            point = [given[n] for n in names]
        else:
            point = [float(item) for item in items]
        if len(point) != len(names):
            raise ValueError(len(point))
    except (KeyError, ValueError):
        print("usage: python3 " + sys.argv[0], *(f"{n}=..." for n in names), file=sys.stderr)
        return 2
    try:
        value, grad = __FUNCTION__(*point)
    except (ArithmeticError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(" ".join(repr(float(v)) for v in (value, *grad)))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
'''


def _main(variables: Sequence[str], name: str) -> list[str]:
    """``python3 module.py 2`` (or ``x=2 y=1``, ``x=2,y=1``): prints what grad prints."""
    names = _tuple([f'"{v}"' for v in variables])  # identifiers: nothing to escape
    return _MAIN.strip("\n").replace("__NAMES__", names).replace("__FUNCTION__", name).split("\n")
