"""Push-down: the Acero expression computes exactly what evaluate() computes."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.acero as ac
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from hasivu_compute.exec import evaluate_column, to_arrow_expression
from hasivu_compute.expr import Expr, bind, col, lit

from ...expr.exprgen import boolean, numeric
from .conftest import SCHEMA, tables, values_equal


def _project(table: pa.Table, expression: pc.Expression) -> pa.ChunkedArray:
    plan = ac.Declaration.from_sequence(
        [
            ac.Declaration("table_source", ac.TableSourceNodeOptions(table)),
            ac.Declaration("project", ac.ProjectNodeOptions([expression], ["r"])),
        ]
    )
    return plan.to_table(use_threads=False)["r"]


def _check(expr: Expr, table: pa.Table) -> None:
    bound = bind(expr, SCHEMA)
    pushed = to_arrow_expression(bound)
    if pushed is None:
        return
    try:
        ours = evaluate_column(bound, table).to_pylist()
    except Exception:
        ours = None
    try:
        acero = _project(table, pushed).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        acero = None
    if ours is None or acero is None:
        assert ours is None and acero is None, f"only one side failed for {bound}"
        return
    assert all(values_equal(a, b) for a, b in zip(ours, acero, strict=True)), str(bound)


@settings(max_examples=80, deadline=None)
@given(table=tables(), pair=st.one_of(boolean(), numeric()))
def test_pushed_down_expression_matches_evaluate(table: pa.Table, pair: tuple[Expr, str]) -> None:
    _check(pair[0], table)


def test_filter_push_down_keeps_sql_null_semantics() -> None:
    table = pa.table({"i": pa.array([1, None, 3], pa.int32())})
    schema = table.schema
    pred = bind(~col("i").is_in([1, None]), schema)
    expression = to_arrow_expression(pred)
    assert expression is not None
    assert table.filter(expression).num_rows == 0, "NOT IN with NULL in the list matches nothing"
    assert to_arrow_expression(bind(col("i").cast(pa.float64()) % 2, schema)) is None, (
        "float modulo is evaluated by us (fmod)"
    )
    assert to_arrow_expression(bind(col("i").sum(), schema)) is None


def test_negative_zero_is_in_like_equality() -> None:
    table = pa.table({"c": [-0.0, 0.0, 1.0, None]})
    pred = bind(col("c").is_in([0.0]), table.schema)
    assert evaluate_column(pred, table).to_pylist() == [True, True, False, None]
    pushed = to_arrow_expression(pred)
    assert pushed is not None
    assert _project(table, pushed).to_pylist() == [True, True, False, None]
    neg = bind(col("c").is_in([-0.0]), table.schema)
    assert evaluate_column(neg, table).to_pylist() == [True, True, False, None]


def test_pushed_down_decimal_casts_round_like_evaluate() -> None:
    import decimal

    values = [decimal.Decimal(v) for v in ("-0.5", "0.5", "-0.9", "0.4")]
    table = pa.table({"tiny": pa.array([*values, None], pa.decimal128(1, 1))})
    for target in (pa.int64(), pa.int8(), pa.decimal128(1, 0)):
        bound = bind(col("tiny").cast(target), table.schema)
        pushed = to_arrow_expression(bound)
        assert pushed is not None, "decimal rounding casts push down"
        ours = evaluate_column(bound, table).to_pylist()
        assert _project(table, pushed).to_pylist() == ours == [-1, 1, -1, 0, None]
    floats = pa.table({"f": pa.array([2.5, -0.5])})
    to_decimal = bind(col("f").cast(pa.decimal128(5, 0)), floats.schema)
    assert to_arrow_expression(to_decimal) is None, "double -> DECIMAL rounds in casts.py"


def test_mixed_int_and_double_arithmetic_is_computed_in_double() -> None:
    """Acero on its own added a double literal to an int64 column in float32."""
    table = pa.table({"j": pa.array([None, 262144, 4097], pa.int64())})
    for expr in (lit(1.75) + col("j") * 16, lit(0.0) + col("j") * col("j")):
        bound = bind(expr, table.schema)
        pushed = to_arrow_expression(bound)
        assert pushed is not None
        assert _project(table, pushed).to_pylist() == evaluate_column(bound, table).to_pylist()
