"""The computation graph as a picture: a text tree, Graphviz, Mermaid, or JSON.

Every format draws the same list of ``Box``es: the forward nodes of the graph
numbered as in the per-node table of ``adcli grad`` (variables first), each shared
node once, constants folded into the label of the node that uses them (``· ^ 2``),
a statement's name beside its operation. With a point, each box also carries its
value and its gradient ∂f/∂node, and each edge the local derivative ∂consumer/∂input
that the backward pass multiplies by: the numbers of the per-node table.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from typing import Any

from .errors import AdcliError, UsageError
from .graph import CONST, VAR, without_gc
from .ops import OPS, shape_text, subscripts_text
from .printing import number as number_text

FORMATS = ("text", "dot", "mermaid", "json", "html")  # html: lesson.py's stepping page
RENDERED = ("svg", "png", "pdf")  # -o FILE.<suffix> runs Graphviz's dot
MAX_INDENT = 40  # levels of the text tree; a 10^5-deep graph would print 10^10 spaces


class MissingTool(AdcliError):
    """A program adcli runs is not installed: say how to get it."""

    exit_code = 1


class Box:
    """One forward node as drawn: its title, inputs and (with a point) numbers."""

    def __init__(
        self, number: int, name: str | None, title: str, inputs: list[int], node: int = -1
    ) -> None:
        self.number = number
        self.node = node  # the graph's node
        self.name = name  # the variable, or the statement's name
        self.title = title  # the operation, constants folded in: "· ^ 2", "sigmoid"
        self.inputs = inputs  # numbers of the input boxes, in argument order
        self.value: float | None = None
        self.adjoint: float | None = None
        self.partials: list[float | None] = []  # one per input box
        self.output = False
        self.unused = False
        self.row = None  # with a point: its row of the per-node table
        self.shape: tuple = ()  # the graph's shape of the node (arrays only)

    @property
    def is_input(self) -> bool:
        return self.title == ""


@without_gc
def boxes(e, point: list[float] | None = None, wrt=None) -> list[Box]:
    """The boxes of ``e``'s forward graph, with values and gradients at ``point``."""
    g = e.ir
    number = e.numbers
    result = []
    for n, k in number.items():
        args = g.args[n]
        if g.op[n] == VAR:
            result.append(Box(k, g.label[n], "", [], n))
            continue
        name = " = ".join([g.label[n], *g.aliases.get(n, [])]) if g.label[n] else None
        result.append(Box(k, name, _title(g, n), [number[a] for a in args if a in number], n))
    outputs = {number[o] for o in e.outputs if o in number}
    for box in result:
        box.output = box.number in outputs
        box.shape = g.shape[box.node]
    for o in dict.fromkeys(e.outputs):  # an output that is a constant (adcli graph "5")
        if o not in number:
            box = Box(len(result) + 1, None, number_text(g.value[o]), [], o)
            box.output = True
            box.value = g.value[o] if point is not None else None
            result.append(box)
    if point is not None:
        rows = {r.number: r for r in e.node_table(point, wrt)}
        for box in result:
            row = box.row = rows[box.number]
            box.value, box.adjoint = row.value, row.adjoint
            box.partials = [p for p, i in zip(row.partials, row.inputs) if i.startswith("#")]
            box.unused = row.status != ""
    return result


def _title(g, n: int) -> str:
    """The operation with constant inputs written in and node inputs as ``·``."""
    op, args = g.op[n], g.args[n]
    if op == "index":
        return f"·[{subscripts_text(g.attrs[n])}]"
    if g.attrs.get(n) is not None:  # an axis, a class count
        return f"{op}(·, {g.attrs[n]})"
    if not any(g.op[a] == CONST for a in args):
        return OPS[op].glyph or op
    parts = [number_text(g.value[a]) if g.op[a] == CONST else "·" for a in args]
    glyph = OPS[op].glyph
    if glyph and len(args) == 2:
        return f"{parts[0]} {glyph} {parts[1]}"
    return f"{op}({', '.join(parts)})"


def _num(value: float | None, digits: int) -> str:
    if value is None:
        return "·"
    if getattr(value, "ndim", 0):
        from .numtext import rounded

        return rounded(value, digits)
    if not math.isfinite(value):
        return repr(value)
    return f"{value:.{digits}g}"


def _head(box: Box) -> str:
    """``#3 t1 = sigmoid`` / ``#1 x``, and an array's shape: ``#1 X [rows, 64]``."""
    shape = f" {shape_text(box.shape)}" if box.shape else ""
    if box.is_input:
        return f"#{box.number} {box.name}{shape}"
    if box.name:
        return f"#{box.number} {box.name} = {box.title}{shape}"
    return f"#{box.number} {box.title}{shape}"


def _value_lines(box: Box, digits: int) -> list[str]:
    """``value 0.880797`` and ``grad 0.4`` (∂f/∂node), as micrograd's pictures say."""
    if box.value is None:
        return []
    lines = [f"value {_num(box.value, digits)}"]
    if box.adjoint is not None:
        lines.append(f"grad {_num(box.adjoint, digits)}")
    return lines


# --- text: a tree from the output down --------------------------------------------------


def to_text_tree(bs: list[Box], digits: int = 6) -> str:
    """The output at the top, each input indented below its consumer; a node drawn
    before is named again with ``↑`` instead of being expanded twice. Iterative."""
    by_number = {b.number: b for b in bs}
    heads = {b.number: _head(b) for b in bs}
    lines: list[tuple[str, Box]] = []
    seen: set[int] = set()
    for root in [b for b in bs if b.output]:
        stack: list[tuple[int, str, str]] = [(root.number, "", "")]
        while stack:
            k, lead, rest = stack.pop()
            box = by_number[k]
            again = k in seen
            lines.append((lead + heads[k] + (" ↑" if again and box.inputs else ""), box))
            if again:
                continue
            seen.add(k)
            children = box.inputs
            if len(rest) >= 3 * MAX_INDENT:  # deeper levels share the last indent
                rest = rest[: 3 * (MAX_INDENT - 1)]
            for i in range(len(children) - 1, -1, -1):
                last = i == len(children) - 1
                stack.append((children[i], rest + ("└─ " if last else "├─ "),
                              rest + ("   " if last else "│  ")))  # fmt: skip
    columns = [[t, *_value_lines(box, digits)] for t, box in lines]
    widths = [max((len(c[i]) for c in columns if len(c) > i), default=0) for i in range(3)]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in columns)  # fmt: skip


# --- Graphviz ---------------------------------------------------------------------------


def _dot_string(lines: list[str]) -> str:
    """A quoted Graphviz label, one ``\n`` (a centred line break) between the lines."""
    escaped = [t.replace("\\", "\\\\").replace('"', '\\"') for t in lines]
    return '"' + "\\n".join(escaped) + '"'


def to_dot(bs: list[Box], digits: int = 6) -> str:
    """Graphviz source: inputs on the left, the output on the right (double border)."""
    lines = [
        "digraph adcli {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fillcolor="#f4f4f4", '
        'fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    ]
    for b in bs:
        label = [_head(b), *_value_lines(b, digits)]
        attrs = [f"label={_dot_string(label)}"]
        if b.is_input:
            attrs += ["shape=ellipse", 'fillcolor="#dbe9f6"']
        if b.output:
            attrs += ["peripheries=2", 'fillcolor="#fde9c9"']
        if b.unused:
            attrs += ['style="rounded,dashed"', 'fontcolor="#888888"']
        lines.append(f"  n{b.number} [{', '.join(attrs)}];")
    for b in bs:
        for i, k in enumerate(b.inputs):
            p = b.partials[i] if i < len(b.partials) else None
            label = f" [label={_dot_string(['∂ ' + _num(p, digits)])}]" if p is not None else ""
            lines.append(f"  n{k} -> n{b.number}{label};")
    lines.append("}")
    return "\n".join(lines)


def render_with_graphviz(source: str, path: str) -> None:
    """Write ``path`` (.svg/.png/.pdf) with Graphviz's ``dot``; no file if it fails."""
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    dot = shutil.which("dot")
    if dot is None:
        raise MissingTool(
            f"cannot write {path}: Graphviz's dot program is not installed",
            "install it (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install "
            "graphviz), or print the source with --format dot",
        )
    folder = os.path.dirname(os.path.abspath(path))
    fd, partial = tempfile.mkstemp(suffix="." + suffix, dir=folder)
    os.close(fd)
    try:
        done = subprocess.run(
            [dot, f"-T{suffix}", *(["-Gdpi=144"] if suffix == "png" else []), "-o", partial],
            input=source.encode(),
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise MissingTool(f"Graphviz's dot failed: {done.stderr.decode().strip()}")
        umask = os.umask(0)  # mkstemp made the file 0600: give it a new file's mode
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def svg(source: str) -> str | None:
    """The DOT ``source`` drawn by Graphviz as SVG markup to put in a page (no XML
    prolog); None where ``dot`` is not installed or fails."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    done = subprocess.run([dot, "-Tsvg"], input=source.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        return None
    text = done.stdout.decode()
    return text[text.index("<svg") :] if "<svg" in text else None


# -o FILE.<suffix>: the text format it holds (SPEC §8: the extension picks the format)
SUFFIXES = {"txt": "text", "dot": "dot", "gv": "dot", "json": "json", "mmd": "mermaid",
            "html": "html", "htm": "html"}  # fmt: skip


def output_format(fmt: str | None, path: str | None) -> tuple[str, str | None]:
    """The text format to draw and, for a picture, its suffix, from ``--format`` and
    ``-o``'s extension; an extension that says another format than ``--format``,
    or one adcli does not know, is an input error naming the ones it does."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", "choose text, dot, mermaid, json or html")
    if path is None:
        return fmt or "text", None
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    known = ", ".join(f".{s}" for s in [*SUFFIXES, *RENDERED])
    if suffix in RENDERED:
        if fmt not in (None, "dot"):
            raise UsageError(f"-o {path} draws the Graphviz picture", "drop --format, or use .txt")
        return "dot", suffix
    if suffix in ("jpg", "jpeg", "gif", "bmp", "webp", "eps", "ps"):
        raise UsageError(f"cannot write .{suffix} pictures", "use .svg, .png or .pdf")
    if suffix not in SUFFIXES:
        raise UsageError(f"-o {path}: adcli does not know the extension .{suffix}",
                         f"use one of {known}")  # fmt: skip
    if fmt is not None and fmt != SUFFIXES[suffix] and suffix != "txt":
        raise UsageError(f"-o {path} holds {SUFFIXES[suffix]}, not {fmt}",
                         f"drop --format, or name the file .{_suffix_of(fmt)}")  # fmt: skip
    return fmt or SUFFIXES[suffix], None


def _suffix_of(fmt: str) -> str:
    return next(s for s, f in SUFFIXES.items() if f == fmt)


def draw(e, fmt: str, point: list[float] | None, wrt, digits: int) -> str:
    """The graph of ``e`` as ``fmt`` text, with values and gradients at ``point``."""
    bs = boxes(e, point, wrt)
    if fmt == "json":
        return to_json(e, bs, point, wrt)
    if fmt == "dot":
        return to_dot(bs, digits)
    if fmt == "mermaid":
        return to_mermaid(bs, digits)
    return to_text_tree(bs, digits)


# --- Mermaid ----------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    # Mermaid labels in ["..."] take HTML entities; a quote would end the label.
    return text.replace("&", "&amp;").replace('"', "#quot;").replace("<", "&lt;")


def to_mermaid(bs: list[Box], digits: int = 6) -> str:
    lines = ["flowchart LR"]
    for b in bs:
        label = [_head(b), *_value_lines(b, digits)]
        text = "<br/>".join(_mermaid_text(t) for t in label)
        shape = ('(["', '"])') if b.is_input else ('[["', '"]]') if b.output else ('["', '"]')
        lines.append(f"  n{b.number}{shape[0]}{text}{shape[1]}")
    for b in bs:
        for i, k in enumerate(b.inputs):
            p = b.partials[i] if i < len(b.partials) else None
            arrow = f' -->|"∂ {_num(p, digits)}"| ' if p is not None else " --> "
            lines.append(f"  n{k}{arrow}n{b.number}")
    return "\n".join(lines)


# --- JSON -------------------------------------------------------------------------------


@without_gc
def to_json(e, bs: list[Box], point: list[float] | None, wrt=None) -> str:
    """Nodes and edges with a stable schema; with a point, ``nodes`` is exactly the
    per-node table of ``adcli grad --format json --nodes``."""
    from .numtext import json_number
    from .render import node_json

    if point is not None:
        rows = [b.row for b in bs if b.node in e.numbers]
        nodes = node_json(rows if None not in rows else e.node_table(point, wrt))
    else:
        nodes = [
            {"id": b.number, "node": e.label(b.node), "op": e.ir.op[b.node],
             "inputs": e.inputs_text(b.node)}
            for b in bs if b.node in e.numbers
        ]  # fmt: skip
    if not e.ir.numbers:  # arrays: each node's shape ("rows" for the data's rows)
        shapes = {b.number: b.shape for b in bs}
        for node in nodes:
            node["shape"] = ["rows" if d is None else d for d in shapes.get(node["id"], ())]
    for b in bs:  # a constant output: a node of its own, as drawn
        if b.node not in e.numbers:
            nodes.append(
                {
                    "id": b.number,
                    "node": b.title,
                    "op": "const",
                    "inputs": [],
                    **({"value": json_number(b.value)} if point is not None else {}),
                }
            )
    edges = []
    for b in bs:
        for i, k in enumerate(b.inputs):
            edge: dict[str, Any] = {"from": k, "to": b.number, "input": i}
            if point is not None:
                p = b.partials[i] if i < len(b.partials) else None
                edge["local"] = None if p is None else json_number(p)
            edges.append(edge)
    outputs = [b.number for b in bs if b.output]
    return json.dumps({"nodes": nodes, "edges": edges, "outputs": outputs}, ensure_ascii=False)
