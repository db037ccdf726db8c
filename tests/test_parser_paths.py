"""The parser's two loops (issue 11, point 4).

``adcli/lalr.py`` runs its own loop over the LALR tables that Lark builds (three
times as fast as Lark's), reading Lark's parse table and callbacks, which are not
Lark's public API. Where they are not what the machine expects, Lark's own public
LALR loop takes over with the same callbacks. Both must build the same graphs and
give the same errors, word for word: the corpus and the generated programs below
go through both, the language tests run again through Lark's loop, and every way
of falling back is forced once.
"""

from __future__ import annotations

import os
import subprocess
import sys

import lark as lark_module
import pytest
import test_language as language
import test_settled_by_use as settled
from conftest import NUMBER_FUNCTIONS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adcli import lalr, syntax
from adcli.errors import AdcliError

# --- both loops, side by side --------------------------------------------------------


@pytest.fixture(scope="module")
def loops():
    """The machine and Lark's loop, each with its own builder."""
    machine, lark_loop = syntax._make_parser(), syntax._make_parser(fast=False)
    assert isinstance(machine[0], lalr.Machine) and isinstance(lark_loop[0], lalr.LarkLoop)
    return machine, lark_loop


def outcome(parser, text: str):
    """What one loop makes of ``text``: the graph, or the failure and its message."""
    loop, builder = parser
    builder.reset(text)
    try:
        outputs = loop.run(text)
    except lalr.SyntaxFailure as failure:
        token = failure.token
        found = None if token is None else (token.type, token.pos, str(token))
        message = syntax._parse_error(text, failure).render()
        return "syntax", failure.pos, found, failure.expected, message
    except lalr.ShapeFailure as failure:  # Lark's loop places it at the last operator read
        return "shape", str(failure.error)
    except AdcliError as error:  # the builder's own: an assignment twice, an arity
        return "error", type(error).__name__, str(error)
    g = builder.graph
    values = [repr(v) for v in g.value]  # repr: NaN equals NaN
    return ("graph", g.op, g.args, values, g.label, dict(g.variables), dict(g.aliases),
            list(outputs), builder.warnings)  # fmt: skip


def assert_same(loops, text: str) -> None:
    machine, lark_loop = loops
    assert outcome(lark_loop, text) == outcome(machine, text), repr(text)


def test_the_machine_reads_the_tables_of_the_installed_lark():
    # Lark's loop is the fallback for another Lark, not the path on the one we test:
    # a silent fallback here would cost every user three times the parse time.
    why = (f"the machine cannot read the tables of Lark {lark_module.__version__}: adcli "
           "works through Lark's own loop, 3 times slower; adapt adcli/lalr.py")  # fmt: skip
    assert isinstance(lalr.driver(_lark()[0], lambda transformer: None), lalr.Machine), why
    assert isinstance(syntax._make_parser()[0], lalr.Machine), why
    syntax.parse("a = (x\n+ 1); sin(a)")
    assert isinstance(syntax._parser[0], lalr.Machine), why


CORPUS = [
    # forms of the language (SPEC §1)
    "-2**2", "2**-1", "2**3**2", "2^3^2", "8/4/2", "10-4-3", "2+3*4", "(2+3)*4", "--2",
    "+2", ".5 + 5. + 1e-3 + 1E+3 + 2.5e1", "pi", "e", "log(8, 2)", "pow(2, 10)",
    "1 # a comment", "θ*λ + x + θ", "x₁*x₂", "a = x*2\n\nb = a + 1; # note\nc = b*b",
    "x*y, x+y, sin(x)", "sin(x)*sin(x) + sin(x)", "x*1 + 0 + (2*3 - 6) + --x",
    "a*b/c - d + f", "(a**b)**c", "\n\n x;;\n", ";x", "x;", "# only a comment\nx",
    "y = (w*x   # the weight\n     + b)\natan2(y,\n      1)\n", "sin(\n x\n)",
    "(x\n+\ny)", "((x\n)\n)", "a = x*2; y = 3*x", "a = x*2; b = x*2; b",
    "a = x*2; y = a + 1", "\u0445*x", "t1 = sigmoid(x); t2 = t1*x; b2 = x**2 + 1; "
    "b3 = 1/b2; y = t2*b3 + log(x) - x**2", "x\r\n+ 1", "x\f*\ty",
    # errors: from tests/test_language.py and tests/test_settled_by_use.py
    "2x", "x(y+1)", "sigmod(x)", "sin(x, y)", "atan2(x)", "x +", "x $ y", "y = y + 1",
    "a = 1; a = 2", "pi = 3", "sin + 1", "", "a = x\nb = a +* 2", "x +* 2",
    "a = w*x\n    + b\n", "x*2; x*3", "x*2\n- 3\n", "(x;\ny)", "x²", "x³ + 1", "(x+1)²",
    "x⁻¹", "2×x", "x·y", "2 − x", "x\u00a0+ 1", "√x", "ln(x)", "tg(x)", "arctan(x)",
    "Sin(x)", "ctg(x)", "sin x", "x + 1 )", "sin(x", "(x+1", "\u0445*2",
    # edges: from tests/test_fuzz.py
    " ", "\n", ";", "#", "\n\n;\n", "x,", ",x", "x,,y", "(", ")", "()", "(x", "x)",
    "sin()", "sin(x,)", "sin(,x)", "log(x,2,3)", "pow(x)", "sin", "x y", "2 3", "x**",
    "**x", "x***2", "x^^2", "x=", "=x", "x==1", "e=1", "sin=1", "t=1;t=2", "x\n=1",
    "1e", "1e+", ".", "..5", "5..", "1.2.3", "0x10", "1_000", "٣", "𝟘", "x\x00",
    "x\u2028y", "x\x85", "\ufeffx", "x # \udc80", "\udc80", "x@y", "$x", "@", "[x]",
    "(x,\ny)", "(x\n;y)", "sin(x\n,\ny)", ")\n(", "(\n", "x\n)", "f(\n)", "x" * 300,
    "(" * 50 + "x" + ")" * 49, "sin(" * 30 + "x" + ")" * 31, "x,x\n)", "x, y +",
    "a, b, c d", "f(x, y, z\n)", "(x, y)", "x, (y,\n z)", "sin(x, y,\n +)",
]  # fmt: skip


@pytest.mark.parametrize("text", CORPUS, ids=lambda t: repr(t[:30]))
def test_both_loops_make_the_same_graph_or_the_same_error(loops, text):
    assert_same(loops, text)


# Generated: token soup for the errors, expressions from the grammar for the graphs.
PIECES = [
    "x", "y", "θ", "x1", "e", "pi", "2", "2.5", ".5", "1e-3", "+", "-", "*", "/", "**",
    "^", "(", ")", ",", ";", "=", "#c\n", "\n", " ", "\t", "sin(", "log(", "atan2(", "sin",
    "$", "²", "×", "[", "a=", "t=", "x(", ")(", "\n)", "(\n", ";\n", "\n;", "x,",
]  # fmt: skip
UNARY = sorted(name for name, arities in NUMBER_FUNCTIONS.items() if 1 in arities)
BINARY = sorted(name for name, arities in NUMBER_FUNCTIONS.items() if 2 in arities)
BREAK = st.sampled_from(["", " ", "\n", "\n  ", " # note\n"])  # inside brackets: blanks


def _combine(inner):
    return st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "^"]), inner).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"
        ),
        st.tuples(BREAK, inner, BREAK).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        inner.map(lambda c: f"-{c}"),
        st.tuples(st.sampled_from(UNARY), inner, BREAK).map(lambda t: f"{t[0]}({t[1]}{t[2]})"),
        st.tuples(st.sampled_from(BINARY), inner, BREAK, inner).map(
            lambda t: f"{t[0]}({t[1]},{t[2]}{t[3]})"
        ),
    )


EXPRESSIONS = st.recursive(
    st.sampled_from(["x", "y", "θ", "2", "0.5", "1e-3", "pi"]), _combine, max_leaves=10
)
PROGRAMS = st.lists(EXPRESSIONS, min_size=1, max_size=4).map(
    lambda es: "\n".join([*(f"t{i} = {e}" for i, e in enumerate(es[:-1])), es[-1]])
)
# The example count is the profile's (tests/conftest.py): a few in the quick tier.
GENERATED = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@GENERATED
@given(text=st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_both_loops_agree_on_token_soup(loops, text):
    assert_same(loops, text)


@GENERATED
@given(text=PROGRAMS)
def test_both_loops_build_the_same_graph_for_programs(loops, text):
    assert_same(loops, text)


@pytest.mark.slow
def test_deep_errors_through_lark_loop_do_not_recurse(loops):
    deep = "sin(" * 100_000 + "x" + ")" * 100_000
    for text in ("(" * 100_000 + "x", "-" * 100_000 + "x +", deep + " +"):
        assert_same(loops, text)


# --- the language tests again, through Lark's loop -----------------------------------


class TestThroughLarksLoop:
    """Tests of tests/test_language.py and tests/test_settled_by_use.py, as they are,
    with Lark's own loop in place of the machine."""

    @pytest.fixture(autouse=True)
    def _larks_loop(self, monkeypatch):
        monkeypatch.setattr(syntax, "_parser", syntax._make_parser(fast=False))
        yield
        assert isinstance(syntax._parser[0], lalr.LarkLoop)

    test_precedence = staticmethod(language.test_precedence_and_tokens_as_in_python)
    test_names = staticmethod(language.test_unicode_names_and_variable_order)
    test_programs = staticmethod(language.test_programs_label_nodes_and_return_the_last_statement)
    test_outputs = staticmethod(language.test_several_outputs)
    test_errors = staticmethod(language.test_parse_errors_say_what_where_and_how_to_fix)
    test_later_line = staticmethod(language.test_error_position_on_a_later_line)
    test_api_errors = staticmethod(language.test_api_errors_are_adcli_errors_with_position)
    test_functions = staticmethod(language.test_every_function_is_callable_with_its_arity)
    test_hash_consing = staticmethod(
        language.test_hash_consing_makes_a_repeated_subexpression_one_node
    )
    test_folding = staticmethod(language.test_constants_fold_and_identities_drop)
    test_round_trips = staticmethod(language.test_printing_round_trips_with_minimal_parentheses)
    test_deep = staticmethod(language.test_deep_inputs_do_not_recurse)
    test_plus_line = staticmethod(
        settled.test_a_line_starting_with_plus_after_an_unused_assignment_is_an_error
    )
    test_unnamed = staticmethod(settled.test_an_unnamed_statement_that_is_not_last_is_an_error)
    test_minus_line = staticmethod(
        settled.test_an_unnamed_line_followed_by_a_minus_line_asks_whether_it_continues
    )
    test_new_lines = staticmethod(settled.test_new_lines_inside_brackets_are_blanks)
    test_semicolon = staticmethod(settled.test_a_semicolon_inside_brackets_is_still_an_error)
    test_unused = staticmethod(settled.test_an_assignment_nothing_reads_is_a_warning)
    test_look_alikes = staticmethod(settled.test_look_alike_characters_are_errors_with_the_fix)
    test_subscripts = staticmethod(settled.test_subscripts_may_continue_a_name)
    test_other_names = staticmethod(settled.test_function_names_from_other_tools_get_the_right_hint)
    test_expected = staticmethod(settled.test_expected_tokens_are_what_the_grammar_takes_there)
    test_cyrillic = staticmethod(settled.test_a_cyrillic_letter_that_looks_latin_is_named)


# --- every way of falling back --------------------------------------------------------

SEED = "x*sigmoid(x)/(x**2+1)"


def test_a_machine_that_cannot_be_built_leaves_the_cli_answering(run, monkeypatch):
    expected = {args: run(*args) for args in [
        ("grad", SEED, "--at", "2", "--format", "plain"),
        ("eval", "y = (x\n  + 1)\ny*2", "--at", "3"),
        ("eval", "sin(x", "--at", "1"),
        ("grad", "x²", "--at", "1"),
    ]}  # fmt: skip

    def cannot(self, lark):
        raise AttributeError("'ParsingFrontend' object has no attribute 'parser'")

    monkeypatch.setattr(lalr.Machine, "__init__", cannot)
    monkeypatch.setattr(syntax, "_parser", None)
    for args, machine in expected.items():
        r = run(*args)
        assert (r.code, r.out, r.err) == (machine.code, machine.out, machine.err), args
    assert isinstance(syntax._parser[0], lalr.LarkLoop)
    assert expected[("grad", SEED, "--at", "2", "--format", "plain")].code == 0


def _lark(transformer=None, **options):
    """A Lark as ``syntax._make_parser`` makes it, with other options; and its builder."""
    grammar = next(p for p in syntax._GRAMMAR_PATHS if p.exists()).read_text(encoding="utf-8")
    options = {"parser": "lalr", "lexer": "basic", "postlex": lalr.BracketBlanks(), **options}
    builder = transformer or syntax._Builder()
    return lark_module.Lark(grammar, transformer=builder, **options), builder


def test_tables_whose_states_are_not_ints_take_larks_loop(loops):
    # Lark's debug mode keeps its item sets as the states: not the machine's shape.
    lark, builder = _lark(debug=True)
    loop = lalr.driver(lark, lambda transformer: _lark(transformer, debug=True)[0])
    assert isinstance(loop, lalr.LarkLoop)
    for text in ("a = (x\n+ 1)\nsin(a)*a", "(x+1", "x $"):
        assert outcome((loop, builder), text) == outcome(loops[0], text)


def test_a_lark_without_the_attributes_takes_larks_loop():
    class Frontend:  # a Lark whose parser is reached another way
        terminals: list = []

    assert isinstance(lalr.driver(Frontend(), lambda transformer: None), lalr.LarkLoop)


def test_an_action_the_machine_does_not_know_takes_larks_loop(monkeypatch):
    from lark.parsers import lalr_analysis

    lark, _ = _lark()
    monkeypatch.setattr(lalr_analysis, "Reduce", object())  # a third kind of action
    assert isinstance(lalr.driver(lark, lambda transformer: None), lalr.LarkLoop)


def test_a_child_filter_of_another_shape_takes_larks_loop():
    lark, _ = _lark()
    callbacks = lark.parser.parser.parser.callbacks
    assert isinstance(lalr.driver(lark, lambda transformer: None), lalr.Machine)
    for callback in callbacks.values():  # as if Lark said more about each child
        if getattr(callback, "to_include", None):
            callback.to_include = [(*entry, None) for entry in callback.to_include]
    assert isinstance(lalr.driver(lark, lambda transformer: None), lalr.LarkLoop)


def test_tables_that_misparse_the_probe_take_larks_loop(monkeypatch):
    lark, _ = _lark()
    assert isinstance(lalr.driver(lark, lambda transformer: None), lalr.Machine)
    monkeypatch.setattr(lalr, "_PROBES", (("x +", True),))  # as if the tables took it
    assert isinstance(lalr.driver(lark, lambda transformer: None), lalr.LarkLoop)


def test_larks_end_of_input_error_reads_as_the_machines(loops):
    from lark import UnexpectedEOF

    class EndsEarly:  # Lark's LALR says UnexpectedToken at the end; its Earley, this
        def parse(self, text):
            raise UnexpectedEOF(["NAME"])

    loop = lalr.LarkLoop(EndsEarly(), lambda transformer: _lark(transformer)[0])
    assert outcome((loop, syntax._Builder()), "x +") == outcome(loops[0], "x +")


def test_a_machine_failing_as_a_misread_would_hands_over_to_larks_loop(monkeypatch):
    def misread(self, text, stop=None):
        raise KeyError("RPAR")  # a row without the action the table promised

    monkeypatch.setattr(syntax, "_parser", None)
    syntax.parse("x")
    monkeypatch.setattr(lalr.Machine, "run", misread)
    program = syntax.parse("a = (x\n+ 1); a*y")
    assert isinstance(syntax._parser[0], lalr.LarkLoop)
    assert program.variables == ("x", "y") and len(program.graph) == 5


def test_a_fault_of_the_builder_is_raised_and_the_machine_stays(monkeypatch):
    def fault(self, children):
        raise TypeError("a fault in the builder")

    monkeypatch.setattr(syntax._Builder, "add", fault)
    monkeypatch.setattr(syntax, "_parser", None)
    with pytest.raises(TypeError, match="a fault in the builder"):
        syntax.parse("x + y")
    assert isinstance(syntax._parser[0], lalr.Machine)
    assert syntax.parse("x*y").variables == ("x", "y")


@pytest.mark.parametrize("cached", [True, False])
def test_larks_loop_with_tables_built_or_loaded_from_the_cache(loops, tmp_path, monkeypatch,
                                                               cached):  # fmt: skip
    monkeypatch.setattr(syntax, "_cache_folder", lambda: str(tmp_path) if cached else None)
    for _ in range(2):  # the first builds the tables (and writes them), the second loads
        parser = syntax._make_parser(fast=False)
        for text in ("y = (x\n  + 1)\ny*2", "(x;\ny)", "sin(x", "x $ y"):
            assert outcome(parser, text) == outcome(loops[0], text)
    assert bool(list(tmp_path.glob("grammar-lark-*.cache"))) == cached


# --- the machine's tables, cached: a start without Lark -----------------------------------


def test_the_machine_from_its_cached_tables_parses_as_from_larks():
    """The snapshot, through marshal as the cache keeps it, makes the same machine:
    the same graphs and the same errors on the corpus."""
    import marshal

    lark, builder = _lark()
    from_lark = lalr.Machine(lark)
    again = syntax._Builder()
    tables = marshal.loads(marshal.dumps(from_lark.tables))
    from_cache = lalr.Machine(None, again, tables)
    for text in [*CORPUS, "(x;\ny)", "sin(x", "x $ y", "param W = zeros(2, 2)\nW[0, :]"]:
        assert outcome((from_cache, again), text) == outcome((from_lark, builder), text), text


def test_a_start_with_the_tables_cached_imports_no_lark(tmp_path):
    script = ("import sys; from adcli.cli import main; code = main(sys.argv[1:]); "
              "print('lark' in sys.modules, file=sys.stderr); sys.exit(code)")  # fmt: skip
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", script, "grad", SEED, "--at", "2"],
                           capture_output=True, text=True, env=env) for _ in range(2)]  # fmt: skip
    assert [r.returncode for r in runs] == [0, 0], runs
    assert runs[0].stdout == runs[1].stdout
    assert [r.stderr.splitlines()[-1] for r in runs] == ["True", "False"]  # built, then read
    assert len(list((tmp_path / "adcli").glob("grammar-tables-*.marshal"))) == 1


@pytest.mark.parametrize("content", [b"", b"not marshal data", None])
def test_a_damaged_or_outdated_snapshot_is_made_again(tmp_path, monkeypatch, content):
    import marshal

    monkeypatch.setattr(syntax, "_cache_folder", lambda: str(tmp_path))
    syntax._make_parser()
    (path,) = tmp_path.glob("grammar-tables-*.marshal")
    good = path.read_bytes()
    if content is None:  # a snapshot of another format
        tables = marshal.loads(good)
        content = marshal.dumps({**tables, "format": -1})
    path.write_bytes(content)
    loop, _ = syntax._make_parser()
    assert isinstance(loop, lalr.Machine)
    assert marshal.loads(path.read_bytes()) == marshal.loads(good)
