"""The simplifier preserves results for every row (property) and does simplify."""

from __future__ import annotations

import importlib

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute._core.errors import InvalidDataError
from hasivu_compute.exec import evaluate_column, evaluate_constant
from hasivu_compute.expr import (
    Case,
    Expr,
    Literal,
    bind,
    col,
    fold_constants,
    lit,
    rewrite_not,
    simplify,
    simplify_boolean,
    when,
)

from .conftest import SCHEMA, tables, values_equal
from .exprgen import boolean, numeric

S = pa.schema([("a", pa.int64()), ("f", pa.float64()), ("b", pa.bool_())])


def _results(expr: Expr, table: pa.Table) -> list[object] | str:
    try:
        return evaluate_column(expr, table).to_pylist()
    except InvalidDataError:
        return "error"


def _same(x: list[object] | str, y: list[object] | str) -> bool:
    if isinstance(x, str) or isinstance(y, str):
        return x == y
    return len(x) == len(y) and all(values_equal(a, b) for a, b in zip(x, y, strict=True))


@st.composite
def noisy_boolean(draw: st.DrawFn) -> Expr:
    """Predicates with constants mixed in, so every rewrite has something to do."""
    expr, _ = draw(boolean())
    for _ in range(draw(st.integers(0, 3))):
        constant = lit(draw(st.sampled_from([True, False, None])), pa.bool_())
        op = draw(st.sampled_from(["and", "or", "not", "notnot", "const_cmp"]))
        if op == "and":
            expr = expr & constant
        elif op == "or":
            expr = constant | expr
        elif op == "not":
            expr = ~expr
        elif op == "notnot":
            expr = ~~expr
        else:
            expr = expr & ((lit(1) + 2) * 3 > lit(draw(st.integers(0, 12))))
    return expr


@settings(max_examples=120, deadline=None)
@given(table=tables(), pred=noisy_boolean())
def test_simplify_preserves_predicate_results(table: pa.Table, pred: Expr) -> None:
    bound = bind(pred, SCHEMA)
    expected = _results(bound, table)
    for rewrite in (simplify, fold_constants, simplify_boolean, rewrite_not):
        rewritten = rewrite(bound)
        assert _same(_results(rewritten, table), expected), f"{rewrite.__name__}: {bound}"


@settings(max_examples=60, deadline=None)
@given(table=tables(), pair=numeric())
def test_simplify_preserves_numeric_results(table: pa.Table, pair: tuple[Expr, str]) -> None:
    bound = bind(pair[0], SCHEMA)
    assert _same(_results(simplify(bound), table), _results(bound, table))


@settings(max_examples=60, deadline=None)
@given(table=tables(), pred=noisy_boolean())
def test_simplify_before_binding_agrees(table: pa.Table, pred: Expr) -> None:
    expected = _results(bind(pred, SCHEMA), table)
    assert _same(_results(bind(simplify(pred), SCHEMA), table), expected)


def test_constant_folding() -> None:
    folded = fold_constants(col("a") > (lit(1) + 2) * 3)
    assert str(folded) == "(a > 9)"
    assert fold_constants(lit("A").lower()).same_as(Literal("a", pa.string()))
    assert str(fold_constants((lit(2) * 3).alias("six"))) == "6 AS six"
    error = lit(1) // 0
    assert fold_constants(error) is error, "failing constants are left for run time"


def test_folding_evaluates_with_the_evaluator_execution_installs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = importlib.import_module("hasivu_compute.expr.simplify")
    assert [evaluate_constant] == module._EVALUATOR, "importing hasivu_compute.exec installs it"
    expr = (lit(1) + 2) * 3
    monkeypatch.setattr(module, "_EVALUATOR", [])
    assert fold_constants(expr) is expr, "no evaluator installed: nothing is folded"
    assert simplify(col("a") > expr).same_as(col("a") > expr)
    assert fold_constants(expr, evaluate_constant).same_as(Literal(9, pa.int64()))


def test_boolean_identities() -> None:
    a = bind(col("a") > 1, S)
    t, f, n = (lit(v, pa.bool_()) for v in (True, False, None))
    assert simplify_boolean(a & t).same_as(a)
    assert simplify_boolean(f & a).same_as(f)
    assert simplify_boolean(a | t).same_as(t)
    assert simplify_boolean(a | f).same_as(a)
    assert simplify_boolean(a & a).same_as(a)
    assert simplify_boolean(~~a).same_as(a)
    assert simplify_boolean(~t).same_as(f)
    kept = a & n
    assert simplify_boolean(kept) is kept, "x AND NULL is not x"


def test_case_branches() -> None:
    case = bind(when(lit(False)).then(1).when(col("b")).then(2).otherwise(3), S)
    simplified = simplify(case)
    assert isinstance(simplified, Case)
    assert len(simplified.branches) == 1
    assert simplify(bind(when(lit(True)).then(1).otherwise(2), S)).same_as(Literal(1, pa.int64()))
    no_branch = bind(when(lit(None, pa.bool_())).then(1).end(), S)
    assert simplify(no_branch).same_as(Literal(None, pa.int64()))


def test_not_push_down() -> None:
    e = bind(~((col("a") > 1) & (col("a").is_null() | ~(col("a") == 3))), S)
    assert str(rewrite_not(e)) == "((a <= 1) OR ((a IS NOT NULL) AND (a = 3)))"
    between = bind(~col("a").between(1, 5), S)
    assert str(rewrite_not(between)) == "((a < 1) OR (a > 5))"
    floats = bind(~(col("f") < 1.0), S)
    assert rewrite_not(floats) is floats, "NOT (f < 1) differs from f >= 1 when f is NaN"


def test_unchanged_returns_same_object() -> None:
    e = bind((col("a") > 1) & col("b"), S)
    assert simplify(e) is e


@pytest.mark.parametrize("value", [float("nan"), 1.0])
def test_not_push_down_keeps_nan_semantics(value: float) -> None:
    table = pa.table({"a": [1], "f": [value], "b": [True]}, schema=S)
    e = bind(~(col("f") < 2.0), S)
    assert _results(simplify(e), table) == _results(e, table)
