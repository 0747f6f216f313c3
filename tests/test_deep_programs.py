"""Programs cc accepts, as long and as deep as generated code has them (issue 17 part 3): every pass over the syntax
tree (pycparser's parser and CGenerator, nsc/frontend, nsc/analysis, nsc/compiler, the corpus's token readers)
handles them, or stops with one line naming nsc's limit (nsc/recursion.py); never a traceback, never a wrong
answer. Each of these programs ended in a RecursionError traceback, or was refused, before."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
from click.testing import CliRunner

from nsc.analysis import flows, linearization
from nsc.analysis.dataflow import reach_matrix_of_tokens
from nsc.analysis.linearize import Linearization, linearize_tokens
from nsc.cli import main
from nsc.errors import NscError
from nsc.frontend import load_program
from nsc.recursion import MAX_NESTING, deep, run_deep


def program(tmp_path, body: str, name: str = "deep.c") -> str:
    path = tmp_path / name
    path.write_text("#pragma nsc range x 0 1\nfloat f(float x) {\n" + body + "\n}\n")
    return str(path)


def nsc(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def sum_of(n: int) -> str:
    return "return " + "+".join(["x"] * n) + ";"


def chain_of(n: int) -> str:
    arms = " else ".join(f"if (x < {(k + 1) / n:.6f}f) r = {k}.0f;" for k in range(n))
    return f"float r = -1.0f;\n{arms}\nreturn r;"


def test_a_sum_of_5000_terms_compiles_samples_and_is_analysed(tmp_path):
    path = program(tmp_path, sum_of(5000))
    result = nsc("compile", path, "--init", "random", "-o", tmp_path / "s.onnx")
    assert result.exit_code == 0, result.output
    result = nsc("sample", path, "-n", "4", "--seed", "1")
    assert result.exit_code == 0, result.output
    rows = np.array([[float(v) for v in line.split(",")] for line in result.output.splitlines()[1:]])
    np.testing.assert_allclose(rows[:, 1], 5000 * rows[:, 0], rtol=1e-4)
    p = load_program(path)
    assert flows(p).tolist() == [[True]]
    linear = linearization(p)
    assert isinstance(linear, Linearization)
    np.testing.assert_allclose(linear.coef, [[2500.0]])  # 5000 x, x = 0.5 + 0.5 u: coefficients are per unit u
    np.testing.assert_allclose(linear.mean, [2500.0])


def test_the_corpus_token_readers_take_long_programs_from_any_thread(tmp_path):
    p = load_program(program(tmp_path, sum_of(5000)))
    assert reach_matrix_of_tokens(p.tokens, p.signature).tolist() == [[True]]  # (re-parses the canonical text)
    assert isinstance(linearize_tokens(p.tokens, p.signature), Linearization)


def test_5000_nested_parentheses_compile_exactly(tmp_path):
    path = program(tmp_path, "return " + "(" * 5000 + "x" + ")" * 5000 + ";")
    result = nsc("compile", path, "-o", tmp_path / "p.onnx", "--json")
    assert result.exit_code == 0, result.output
    assert '"compiled_exactly": true' in result.output


def test_5000_nested_negations_are_computed_right(tmp_path):
    path = program(tmp_path, "return " + "-(" * 5000 + "x + 1.0f" + ")" * 5000 + ";")  # even: x + 1
    p = load_program(path)
    linear = linearization(p)
    np.testing.assert_allclose(linear.mean, [1.5])
    np.testing.assert_allclose(linear.coef, [[0.5]])  # x + 1, x = 0.5 + 0.5 u


def test_an_else_if_chain_of_2000_arms(tmp_path):
    path = program(tmp_path, chain_of(2000))
    assert nsc("compile", path, "--init", "random", "-o", tmp_path / "c.onnx").exit_code == 0
    result = nsc("sample", path, "-n", "5", "--seed", "2")
    assert result.exit_code == 0, result.output
    for line in result.output.splitlines()[1:]:
        x, r = map(float, line.split(","))
        assert r == min(k for k in range(2000) if np.float32(x) < np.float32(round((k + 1) / 2000, 6)))
    assert flows(load_program(path)).tolist() == [[True]]


def test_a_chain_of_300_arms_is_linearised(tmp_path):
    linear = linearization(load_program(program(tmp_path, chain_of(300))))
    assert isinstance(linear, Linearization)
    np.testing.assert_allclose(linear.mean, [149.5], atol=0.5)  # r ~ uniform on 0..299


def test_deeply_nested_blocks_loops_and_calls(tmp_path):
    n = 3000
    blocks = program(tmp_path, "{" * n + "x = x + 1.0f;" + "}" * n + " return x;", "blocks.c")
    np.testing.assert_allclose(linearization(load_program(blocks)).mean, [1.5])
    loops = program(tmp_path, "int i;" + "for (i = 0; i < 1; i++) " * n + "x += 1.0f; return x;", "loops.c")
    assert flows(load_program(loops)).tolist() == [[True]]
    calls = tmp_path / "calls.c"
    calls.write_text("#pragma nsc range x 0 1\nstatic float g(float v) { return v; }\nfloat f(float x) { return "
                     + "g(" * n + "x" + ")" * n + "; }\n")
    p = load_program(str(calls))
    assert flows(p).tolist() == [[True]]
    np.testing.assert_allclose(linearization(p).mean, [0.5])


def test_the_hypernetwork_refuses_a_function_beyond_its_context_before_analysing_it(tmp_path, monkeypatch):
    path = program(tmp_path, chain_of(2000))
    import nsc.compiler.hypernet as hypernet

    def never(program):
        raise AssertionError("analysed a program the compiler refuses")

    monkeypatch.setattr(hypernet, "linearization", never)
    result = nsc("compile", path, "--init", "hypernetwork", "-o", tmp_path / "c.onnx")
    assert result.exit_code == 1
    assert "tokens long but the compiler's context holds only" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "c.onnx").exists()


@pytest.mark.parametrize("body", [
    sum_of(MAX_NESTING + 2000),
    "return " + "-(" * (2 * MAX_NESTING) + "x" + ")" * (2 * MAX_NESTING) + ";",
    "return " + "x*(1+" * MAX_NESTING + "x" + ")" * MAX_NESTING + ";",
], ids=["sum", "negations", "products"])
def test_beyond_the_limit_one_line_names_it(tmp_path, body):
    path = program(tmp_path, body)
    result = nsc("compile", path, "--init", "random", "-o", tmp_path / "x.onnx")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert f"nested more than {MAX_NESTING} levels deep" in result.output
    assert result.output.startswith(f"{path}:3:")  # the line, and where in it
    assert not (tmp_path / "x.onnx").exists()


def test_deep_calls_restore_the_recursion_limit_and_nest_inline():
    before = sys.getrecursionlimit()
    threads = []

    @deep
    def inner():
        threads.append(threading.current_thread())
        return sys.getrecursionlimit()

    @deep
    def outer():
        threads.append(threading.current_thread())
        return inner()

    assert outer() > before
    assert threads[0] is threads[1] and threads[0] is not threading.current_thread()
    assert sys.getrecursionlimit() == before


def test_a_runaway_recursion_is_one_line_not_a_traceback():
    def forever(n):
        return forever(n + 1) + 1

    with pytest.raises(NscError, match="recursed more than .* frames deep"):
        run_deep(forever, 0)


def test_exceptions_and_context_cross_the_thread():
    import decimal

    with pytest.raises(KeyError):
        run_deep(lambda: {}["missing"])
    with decimal.localcontext() as ctx:  # a context variable of the caller is seen by the deep call
        ctx.prec = 7
        assert run_deep(lambda: decimal.getcontext().prec) == 7
