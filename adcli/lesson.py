"""``adcli graph EXPR --at POINT --format html``: one self-contained page (SPEC §12)
that steps through the forward pass and then the backward sweep, node by node, on
the graph Graphviz draws: the current node and its edges highlighted, its value,
local derivatives and adjoint (with the fan-out sum) in the terminal table's words.
Next/Back buttons and the arrow keys move; the last state is the whole table.

Everything is inline (the SVG, the script, the steps as JSON): the page opens with
the network off.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

# The page's script: plain DOM, no library. Graphviz titles each node group "n<k>" and
# each edge group "n<a>->n<b>"; a step names its node and the edges to light.
_SCRIPT = """
const steps = JSON.parse(document.getElementById("steps").textContent);
const panel = document.getElementById("panel");
const counter = document.getElementById("counter");
const byTitle = {};
document.querySelectorAll("#graph g.node, #graph g.edge").forEach(function (g) {
  byTitle[g.querySelector("title").textContent] = g;
});
let k = -1;  // -1: before the first step; steps.length: the whole table
function show() {
  document.querySelectorAll("#graph .current").forEach(function (g) {
    g.classList.remove("current");
  });
  document.getElementById("table").hidden = k < steps.length;
  panel.hidden = k >= steps.length;
  document.getElementById("back").disabled = k < 0;
  document.getElementById("next").disabled = k >= steps.length;
  if (k < 0) {
    panel.dataset.node = "";
    panel.dataset.phase = "start";
    panel.innerHTML = "<p>Press <b>Next</b> (or →) to run the forward pass, node by node, " +
      "then the backward sweep.</p>";
    counter.textContent = "";
    return;
  }
  if (k >= steps.length) {
    panel.dataset.node = "";
    panel.dataset.phase = "table";
    counter.textContent = "the whole table";
    return;
  }
  const s = steps[k];
  [s.node].concat(s.edges).forEach(function (title) {
    if (byTitle[title]) byTitle[title].classList.add("current");
  });
  panel.dataset.node = s.number;
  panel.dataset.phase = s.phase;
  panel.innerHTML = s.html;
  counter.textContent = (s.phase === "forward" ? "forward pass" : "backward sweep") +
    ", step " + (k + 1) + " of " + steps.length;
}
function move(by) { k = Math.max(-1, Math.min(steps.length, k + by)); show(); }
document.getElementById("next").addEventListener("click", function () { move(1); });
document.getElementById("back").addEventListener("click", function () { move(-1); });
document.addEventListener("keydown", function (event) {
  if (event.key === "ArrowRight") move(1);
  if (event.key === "ArrowLeft") move(-1);
});
show();
"""

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
#graph svg { max-width: 100%; height: auto; }
#graph g.node.current path, #graph g.node.current polygon, #graph g.node.current ellipse {
  fill: #ffe066; stroke: #d9480f; stroke-width: 2.5; }
#graph g.edge.current path { stroke: #d9480f; stroke-width: 2.5; }
#graph g.edge.current polygon { fill: #d9480f; stroke: #d9480f; }
#panel { font-size: 1.1em; min-height: 6em; }
#panel .words { font-family: monospace; white-space: pre; }
table.adcli { border-collapse: collapse; }
table.adcli td, table.adcli th { border: 1px solid #ccc; padding: 0.2em 0.6em;
  vertical-align: top; }
button { font-size: 1em; margin-right: 0.5em; }
"""


def page(e: Any, point: list[float], wrt: Any, digits: int, title: str) -> str:
    """The lesson page of ``e`` at ``point`` (Graphviz draws the graph: without its
    ``dot`` a ``drawing.MissingTool`` says how to install it)."""
    from .drawing import MissingTool, boxes, svg, to_dot
    from .notebook import show
    from .numtext import numbers
    from .render import adjoint_text, local_text, op_text

    table = e.table(point, wrt)  # its rows are the steps; shown whole, it is the last one
    rows = table.rows
    drawn = svg(to_dot(boxes(e, point, wrt), digits))
    if drawn is None:
        raise MissingTool(
            "the lesson page draws the graph with Graphviz's dot, which is not installed",
            "install it (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install "
            "graphviz)",
        )
    # inline SVG needs no namespace declarations: the page names no URL at all
    drawn = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", drawn)
    num = numbers(digits)
    inputs = {r.number: [int(a[1:]) for a in r.inputs if a.startswith("#")] for r in rows}
    steps = []
    for r in rows:  # the forward pass: each node from its inputs
        local = local_text(r, num)
        words = f"#{r.number} {r.label} = {op_text(r)} = {num(r.value)}"
        steps.append({"phase": "forward", "number": r.number, "node": f"n{r.number}",
                      "edges": [f"n{a}->n{r.number}" for a in inputs[r.number]],
                      "html": _panel("value", words, local)})  # fmt: skip
    for r in reversed(rows):  # the backward sweep: each adjoint from its consumers
        users = [c for c, _ in r.terms]
        words = f"#{r.number} {r.label}: ∂f/∂node = {adjoint_text(r, num)}"
        local = local_text(r, num)
        steps.append({"phase": "backward", "number": r.number, "node": f"n{r.number}",
                      "edges": [f"n{r.number}->n{c}" for c in users],
                      "html": _panel("adjoint", words.replace("\n", "\n    "), local)})  # fmt: skip
    data = json.dumps(steps, ensure_ascii=False).replace("</", "<\\/")  # no </script> inside
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p><button id="back">◀ Back</button><button id="next">Next ▶</button>
<span id="counter"></span></p>
<div id="panel"></div>
<div id="graph">{drawn}</div>
<div id="table" hidden>{show(table, "html")}</div>
<script type="application/json" id="steps">{data}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def _panel(what: str, words: str, local: str) -> str:
    """A step's words: the node as the table names it, and its local derivatives."""
    lines = f'<p class="words">{escape(words)}</p>'
    if local:
        partials = escape(local.replace("\n", "; "))
        lines += f'<p>local ∂: <span class="words">{partials}</span></p>'
    return f'<div class="{what}">{lines}</div>'
