"""The layers of DESIGN.md, enforced: every module imports only from its own layer
or the ones below it (read from the source with ``ast``, lazy imports included).

errors is alone at the bottom and imports nothing of adcli; the core (up to the
façade) words no command-line flag; the command line is the top.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "adcli"

# Lowest first. A module may import its own layer and the ones below.
LAYERS: list[set[str]] = [
    {"errors"},  # what went wrong, and how options are spelled
    {"ops", "kernels", "numtext", "pasted", "params", "displayed"},  # the op table; numbers,
    # LaTeX and HTML; inits; the display protocol
    {"graph", "lalr"},  # the IR; the LALR driver
    {"syntax", "autodiff", "evaluate", "jaxbackend", "simplify"},  # text → graph; transforms; runs
    {"printing", "optimize", "train", "fit", "check"},  # formulas; descent, training, fits; checks
    {"report", "api"},  # the façade and what its tables say
    {"points", "streams", "data", "datarun", "pointwise", "render", "tables", "trace", "fitreport",
     "drawing", "plotting", "codegen",
     "partitions", "cluster", "daskrun", "notebook", "lesson"},  # the command line's inputs and
    # outputs (and Jupyter's); the Dask engine
    {"cli", "__main__", "__init__"},
]  # fmt: skip
LAYER = {name: i for i, layer in enumerate(LAYERS) for name in layer}
CORE = {name for layer in LAYERS[:6] for name in layer}


def adcli_imports(source: str) -> list[str]:
    """The adcli modules a module's source imports (relative imports, at any depth;
    not those only for type checkers); a name from the package itself is __init__."""
    tree = ast.parse(source)
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            if node.module:
                found.append(node.module.split(".")[0])
            else:  # from . import report, __version__
                found += [a.name if a.name in LAYER else "__init__" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("adcli"):
            parts = node.module.split(".")
            found += [parts[1]] if len(parts) > 1 else [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name.split(".")[1] for a in node.names if a.name.startswith("adcli.")]
    return found


def upward(module: str, source: str) -> list[str]:
    """The imports of ``module`` that reach a layer above its own."""
    return [i for i in adcli_imports(source) if LAYER.get(i, len(LAYERS)) > LAYER[module]]


def modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


def test_every_module_has_a_layer():
    assert set(modules()) == set(LAYER), sorted(set(modules()) ^ set(LAYER))


@pytest.mark.parametrize("module", modules())
def test_no_module_imports_from_a_layer_above_its_own(module):
    source = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
    assert upward(module, source) == [], f"{module} imports from above its layer"


def test_errors_imports_nothing_of_adcli():
    assert adcli_imports((PACKAGE / "errors.py").read_text(encoding="utf-8")) == []


def test_the_check_fails_on_an_upward_import():
    # ops reaching up for the command line, at the top and inside a function
    assert upward("ops", "from .cli import main\n") == ["cli"]
    assert upward("graph", "def f():\n    from . import api\n") == ["api"]
    assert upward("api", "from adcli.render import Output\n") == ["render"]
    assert upward("render", "from .api import compile\n") == []


# A flag in a string the core writes: ``--lr`` and the like (the core names options
# as {lr}, and the command line spells them; see errors.spell).
_FLAG = re.compile(r"""["'][^"'\n]*(?<![\w-])--[a-z][a-z-]*""")


@pytest.mark.parametrize("module", sorted(CORE))
def test_the_core_words_no_command_line_flag(module):
    source = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
    strings = [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    docstrings = {
        ast.get_docstring(node, clean=False)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
    }
    flags = [s for s in strings if s not in docstrings and _FLAG.search(f'"{s}')]
    assert flags == [], f"{module} words command-line flags: {flags}"
