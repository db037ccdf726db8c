"""docs/lesson.ipynb (issue 16): seed 000's lesson as a notebook, run top to bottom
by nbclient on a real kernel (ipykernel), any cell error a failure, its outputs
checked for the seed's numbers."""

from __future__ import annotations

import re
from pathlib import Path

import nbclient  # the test extra installs it, and ipykernel for its kernel
import nbformat
import pytest

LESSON = Path(__file__).resolve().parent.parent / "docs" / "lesson.ipynb"


@pytest.fixture(scope="module")
def outputs() -> list[dict]:
    """Each code cell's result, by the cell's source: its HTML and its text."""
    notebook = nbformat.read(LESSON, as_version=4)
    for cell in notebook.cells:  # the notebook is kept without outputs: run here
        assert cell.cell_type != "code" or not cell.outputs, "docs/lesson.ipynb has outputs"
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    found = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            data = [o.get("data", {}) for o in cell.outputs]
            assert [o.output_type for o in cell.outputs] == ["execute_result"], cell.source
            found.append({"source": cell.source, **data[0]})
    return found


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_node_table_shows_the_seeds_values_and_adjoints(outputs):
    table = next(o for o in outputs if o["source"] == "f.table(x=2)")
    body = table["text/html"].split("<tbody>")[1]
    rows = {cells[1]: cells for cells in (
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", body))}  # fmt: skip
    values = {name: rows[name][3] for name in ("t1", "t2", "b2", "b3", "y")}
    assert values == {"t1": "0.880797", "t2": "1.76159", "b2": "5", "b3": "0.2", "y": "0.352319"}
    assert rows["x"][5].startswith("-0.0636982")  # ∂f/∂x, three contributions summed
    assert rows["x"][5].count(" from #") == 3
    assert "∂f/∂x = -0.06369821519594324" in table["text/html"]
    assert "f(x=2) = 0.3523188311911529" in table["text/plain"]  # the terminal's text too


def test_the_tangent_table_and_the_graph_are_shown(outputs):
    forward = next(o for o in outputs if "mode=" in o["source"])
    assert "-0.0636982" in text_of(forward["text/html"])
    graph = next(o for o in outputs if o["source"] == "f.graph(x=2)")
    assert "image/svg+xml" in graph or "install graphviz" in graph["text/html"]
    assert "#1 x" in graph["text/plain"]


@pytest.mark.parametrize("start, end, diagnosis", [
    ("-5.0", "-4.832845365106556", "plateau"),
    ("1.3306", "-0.6399042108387073", "minimum"),
    ("1.3307", "3.82928805713", "moving right"),
    ("1.330696146306314", "1.330696146306314", "maximum"),
])  # fmt: skip
def test_the_four_descents_end_where_the_seed_loop_ends_and_say_why(outputs, start, end,
                                                                   diagnosis):  # fmt: skip
    run = next(o for o in outputs if f'{{"x": {start}}}' in o["source"])
    shown = text_of(run["text/html"])
    assert f"gd: x = {end}" in shown, shown[-400:]
    assert diagnosis in shown
    assert "<pre>" in run["text/html"]  # the path over f, as minimize --plot draws it
