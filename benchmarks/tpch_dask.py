"""The 22 TPC-H queries written in Dask's DataFrame API (Dask has no SQL front end).

Each function takes a reader (``read(table, columns) -> dask DataFrame`` over the
benchmark's Parquet files) and returns the answer as a pandas DataFrame with the
columns, in the order, of the SQL text in ``tests/differential/tpch_queries.py``.
They follow the specification's SQL (same filters, same correlated meanings); where
a correlated subquery becomes a join or a per-key aggregate the docstring says why
that is the same answer. Large steps stay lazy in Dask; the final sort / top-N runs
on the small computed result in pandas, as a Dask user would write it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd

Reader = Callable[[str, list[str]], Any]


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _revenue(df: Any) -> Any:
    return df.l_extendedprice * (1 - df.l_discount)


def _sorted(df: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    return df.sort_values(by, ascending=ascending, kind="stable").reset_index(drop=True)


def q1(read: Reader) -> pd.DataFrame:
    cols = ["l_quantity", "l_extendedprice", "l_discount", "l_tax", "l_returnflag"]
    li = read("lineitem", [*cols, "l_linestatus", "l_shipdate"])
    li = li[li.l_shipdate <= _d("1998-09-02")]
    li = li.assign(disc_price=_revenue(li))
    li = li.assign(charge=li.disc_price * (1 + li.l_tax))
    out = li.groupby(["l_returnflag", "l_linestatus"]).agg(
        sum_qty=("l_quantity", "sum"),
        sum_base_price=("l_extendedprice", "sum"),
        sum_disc_price=("disc_price", "sum"),
        sum_charge=("charge", "sum"),
        avg_qty=("l_quantity", "mean"),
        avg_price=("l_extendedprice", "mean"),
        avg_disc=("l_discount", "mean"),
        count_order=("l_quantity", "count"),
    )
    return _sorted(out.compute().reset_index(), ["l_returnflag", "l_linestatus"], [True, True])


def _suppliers_in_region(read: Reader, region: str, columns: list[str]) -> Any:
    r = read("region", ["r_regionkey", "r_name"])
    n = read("nation", ["n_nationkey", "n_name", "n_regionkey"])
    s = read("supplier", ["s_suppkey", "s_nationkey", *columns])
    n = n.merge(r[r.r_name == region], left_on="n_regionkey", right_on="r_regionkey")
    return s.merge(n, left_on="s_nationkey", right_on="n_nationkey")


def q2(read: Reader) -> pd.DataFrame:
    """The correlated min(ps_supplycost) is per part over European suppliers: computed per
    ``ps_partkey`` on the same join, then matched back on (part, cost)."""
    s_cols = ["s_acctbal", "s_name", "s_address", "s_phone", "s_comment"]
    s = _suppliers_in_region(read, "EUROPE", s_cols)
    ps = read("partsupp", ["ps_partkey", "ps_suppkey", "ps_supplycost"])
    ps = ps.merge(s, left_on="ps_suppkey", right_on="s_suppkey")
    p = read("part", ["p_partkey", "p_mfgr", "p_size", "p_type"])
    p = p[(p.p_size == 15) & p.p_type.str.endswith("BRASS")]
    j = p.merge(ps, left_on="p_partkey", right_on="ps_partkey")
    low = j.groupby("p_partkey").ps_supplycost.min().reset_index()
    j = j.merge(low, on=["p_partkey", "ps_supplycost"])
    cols = ["s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr", "s_address", "s_phone"]
    out = j[[*cols, "s_comment"]].compute()
    by = ["s_acctbal", "n_name", "s_name", "p_partkey"]
    return _sorted(out, by, [False, True, True, True]).head(100)


def q3(read: Reader) -> pd.DataFrame:
    c = read("customer", ["c_custkey", "c_mktsegment"])
    o = read("orders", ["o_orderkey", "o_custkey", "o_orderdate", "o_shippriority"])
    li = read("lineitem", ["l_orderkey", "l_extendedprice", "l_discount", "l_shipdate"])
    c = c[c.c_mktsegment == "BUILDING"]
    o = o[o.o_orderdate < _d("1995-03-15")]
    li = li[li.l_shipdate > _d("1995-03-15")]
    j = c.merge(o, left_on="c_custkey", right_on="o_custkey")
    j = li.merge(j, left_on="l_orderkey", right_on="o_orderkey")
    j = j.assign(revenue=_revenue(j))
    keys = ["l_orderkey", "o_orderdate", "o_shippriority"]
    out = j.groupby(keys).revenue.sum().reset_index().compute()
    out = _sorted(out, ["revenue", "o_orderdate"], [False, True]).head(10)
    return out[["l_orderkey", "revenue", "o_orderdate", "o_shippriority"]]


def q4(read: Reader) -> pd.DataFrame:
    """EXISTS (late line of the order) = a semi join with the distinct late order keys."""
    o = read("orders", ["o_orderkey", "o_orderdate", "o_orderpriority"])
    o = o[(o.o_orderdate >= _d("1993-07-01")) & (o.o_orderdate < _d("1993-10-01"))]
    li = read("lineitem", ["l_orderkey", "l_commitdate", "l_receiptdate"])
    late = li[li.l_commitdate < li.l_receiptdate][["l_orderkey"]].drop_duplicates()
    j = o.merge(late, left_on="o_orderkey", right_on="l_orderkey")
    out = j.groupby("o_orderpriority").o_orderkey.count().rename("order_count")
    return _sorted(out.compute().reset_index(), ["o_orderpriority"], [True])


def q5(read: Reader) -> pd.DataFrame:
    s = _suppliers_in_region(read, "ASIA", [])
    c = read("customer", ["c_custkey", "c_nationkey"])
    o = read("orders", ["o_orderkey", "o_custkey", "o_orderdate"])
    o = o[(o.o_orderdate >= _d("1994-01-01")) & (o.o_orderdate < _d("1995-01-01"))]
    li = read("lineitem", ["l_orderkey", "l_suppkey", "l_extendedprice", "l_discount"])
    j = o.merge(c, left_on="o_custkey", right_on="c_custkey")
    j = li.merge(j, left_on="l_orderkey", right_on="o_orderkey")
    j = j.merge(s, left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "s_nationkey"])
    j = j.assign(revenue=_revenue(j))
    out = j.groupby("n_name").revenue.sum().reset_index().compute()
    return _sorted(out, ["revenue"], [False])


def q6(read: Reader) -> pd.DataFrame:
    li = read("lineitem", ["l_extendedprice", "l_discount", "l_shipdate", "l_quantity"])
    li = li[
        (li.l_shipdate >= _d("1994-01-01"))
        & (li.l_shipdate < _d("1995-01-01"))
        & (li.l_discount >= 0.05)
        & (li.l_discount <= 0.07)
        & (li.l_quantity < 24)
    ]
    revenue = (li.l_extendedprice * li.l_discount).sum().compute()
    return pd.DataFrame({"revenue": [revenue]})


def _nation_names(read: Reader, names: list[str]) -> Any:
    n = read("nation", ["n_nationkey", "n_name"])
    return n[n.n_name.isin(names)]


def q7(read: Reader) -> pd.DataFrame:
    pair = ["FRANCE", "GERMANY"]
    sn = _nation_names(read, pair).rename(columns={"n_name": "supp_nation"})
    cn = _nation_names(read, pair).rename(columns={"n_name": "cust_nation"})
    s = read("supplier", ["s_suppkey", "s_nationkey"])
    s = s.merge(sn, left_on="s_nationkey", right_on="n_nationkey")
    c = read("customer", ["c_custkey", "c_nationkey"])
    c = c.merge(cn, left_on="c_nationkey", right_on="n_nationkey")
    o = read("orders", ["o_orderkey", "o_custkey"]).merge(
        c, left_on="o_custkey", right_on="c_custkey"
    )
    cols = ["l_orderkey", "l_suppkey", "l_extendedprice", "l_discount", "l_shipdate"]
    li = read("lineitem", cols)
    li = li[(li.l_shipdate >= _d("1995-01-01")) & (li.l_shipdate <= _d("1996-12-31"))]
    j = li.merge(s[["s_suppkey", "supp_nation"]], left_on="l_suppkey", right_on="s_suppkey")
    j = j.merge(o[["o_orderkey", "cust_nation"]], left_on="l_orderkey", right_on="o_orderkey")
    j = j[j.supp_nation != j.cust_nation]
    j = j.assign(l_year=j.l_shipdate.dt.year, volume=_revenue(j))
    keys = ["supp_nation", "cust_nation", "l_year"]
    out = j.groupby(keys).volume.sum().rename("revenue").reset_index().compute()
    return _sorted(out, keys, [True, True, True])


def q8(read: Reader) -> pd.DataFrame:
    r = read("region", ["r_regionkey", "r_name"])
    n1 = read("nation", ["n_nationkey", "n_regionkey"])
    n1 = n1.merge(r[r.r_name == "AMERICA"], left_on="n_regionkey", right_on="r_regionkey")
    c = read("customer", ["c_custkey", "c_nationkey"])
    c = c.merge(n1[["n_nationkey"]], left_on="c_nationkey", right_on="n_nationkey")
    o = read("orders", ["o_orderkey", "o_custkey", "o_orderdate"])
    o = o[(o.o_orderdate >= _d("1995-01-01")) & (o.o_orderdate <= _d("1996-12-31"))]
    o = o.merge(c[["c_custkey"]], left_on="o_custkey", right_on="c_custkey")
    p = read("part", ["p_partkey", "p_type"])
    p = p[p.p_type == "ECONOMY ANODIZED STEEL"]
    n2 = read("nation", ["n_nationkey", "n_name"]).rename(columns={"n_name": "nation"})
    s = read("supplier", ["s_suppkey", "s_nationkey"])
    s = s.merge(n2, left_on="s_nationkey", right_on="n_nationkey")
    cols = ["l_orderkey", "l_partkey", "l_suppkey", "l_extendedprice", "l_discount"]
    j = read("lineitem", cols).merge(p[["p_partkey"]], left_on="l_partkey", right_on="p_partkey")
    j = j.merge(o[["o_orderkey", "o_orderdate"]], left_on="l_orderkey", right_on="o_orderkey")
    j = j.merge(s[["s_suppkey", "nation"]], left_on="l_suppkey", right_on="s_suppkey")
    volume = _revenue(j)
    j = j.assign(
        o_year=j.o_orderdate.dt.year, volume=volume, brazil=volume.where(j.nation == "BRAZIL", 0.0)
    )
    g = j.groupby("o_year")[["brazil", "volume"]].sum().compute()
    out = pd.DataFrame({"o_year": g.index, "mkt_share": (g.brazil / g.volume).to_numpy()})
    return _sorted(out, ["o_year"], [True])


def q9(read: Reader) -> pd.DataFrame:
    p = read("part", ["p_partkey", "p_name"])
    p = p[p.p_name.str.contains("green", regex=False)]
    cols = ["l_orderkey", "l_partkey", "l_suppkey", "l_quantity", "l_extendedprice", "l_discount"]
    j = read("lineitem", cols).merge(p[["p_partkey"]], left_on="l_partkey", right_on="p_partkey")
    ps = read("partsupp", ["ps_partkey", "ps_suppkey", "ps_supplycost"])
    j = j.merge(ps, left_on=["l_partkey", "l_suppkey"], right_on=["ps_partkey", "ps_suppkey"])
    s = read("supplier", ["s_suppkey", "s_nationkey"])
    s = s.merge(
        read("nation", ["n_nationkey", "n_name"]), left_on="s_nationkey", right_on="n_nationkey"
    )
    j = j.merge(s[["s_suppkey", "n_name"]], left_on="l_suppkey", right_on="s_suppkey")
    j = j.merge(
        read("orders", ["o_orderkey", "o_orderdate"]), left_on="l_orderkey", right_on="o_orderkey"
    )
    j = j.assign(
        nation=j.n_name,
        o_year=j.o_orderdate.dt.year,
        amount=_revenue(j) - j.ps_supplycost * j.l_quantity,
    )
    out = j.groupby(["nation", "o_year"]).amount.sum().rename("sum_profit").reset_index().compute()
    return _sorted(out, ["nation", "o_year"], [True, False])


def q10(read: Reader) -> pd.DataFrame:
    """Grouped by c_custkey alone: the other GROUP BY columns are the customer's own
    attributes (functionally dependent), joined to the top 20."""
    o = read("orders", ["o_orderkey", "o_custkey", "o_orderdate"])
    o = o[(o.o_orderdate >= _d("1993-10-01")) & (o.o_orderdate < _d("1994-01-01"))]
    li = read("lineitem", ["l_orderkey", "l_extendedprice", "l_discount", "l_returnflag"])
    li = li[li.l_returnflag == "R"]
    j = li.merge(o, left_on="l_orderkey", right_on="o_orderkey")
    j = j.assign(revenue=_revenue(j))
    top = j.groupby("o_custkey").revenue.sum().reset_index().compute()
    top = _sorted(top, ["revenue", "o_custkey"], [False, True]).head(20)
    cols = ["c_custkey", "c_name", "c_acctbal", "c_address", "c_phone", "c_comment", "c_nationkey"]
    c = read("customer", cols)
    c = c[c.c_custkey.isin(top.o_custkey.tolist())].compute()
    n = read("nation", ["n_nationkey", "n_name"]).compute()
    out = top.merge(c, left_on="o_custkey", right_on="c_custkey")
    out = out.merge(n, left_on="c_nationkey", right_on="n_nationkey")
    out = _sorted(out, ["revenue", "c_custkey"], [False, True])
    cols = ["c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone"]
    return out[[*cols, "c_comment"]]


def _german_partsupp(read: Reader) -> Any:
    ps = read("partsupp", ["ps_partkey", "ps_suppkey", "ps_supplycost", "ps_availqty"])
    s = read("supplier", ["s_suppkey", "s_nationkey"])
    s = s.merge(_nation_names(read, ["GERMANY"]), left_on="s_nationkey", right_on="n_nationkey")
    j = ps.merge(s[["s_suppkey"]], left_on="ps_suppkey", right_on="s_suppkey")
    return j.assign(value=j.ps_supplycost * j.ps_availqty)


def q11(read: Reader) -> pd.DataFrame:
    j = _german_partsupp(read)
    total = j.value.sum() * 0.0001
    per_part = j.groupby("ps_partkey").value.sum().reset_index()
    per_part, threshold = per_part.compute(), total.compute()
    out = per_part[per_part.value > threshold]
    return _sorted(out, ["value", "ps_partkey"], [False, True])


def q12(read: Reader) -> pd.DataFrame:
    cols = ["l_orderkey", "l_shipmode", "l_commitdate", "l_receiptdate", "l_shipdate"]
    li = read("lineitem", cols)
    li = li[
        li.l_shipmode.isin(["MAIL", "SHIP"])
        & (li.l_commitdate < li.l_receiptdate)
        & (li.l_shipdate < li.l_commitdate)
        & (li.l_receiptdate >= _d("1994-01-01"))
        & (li.l_receiptdate < _d("1995-01-01"))
    ]
    o = read("orders", ["o_orderkey", "o_orderpriority"])
    j = li.merge(o, left_on="l_orderkey", right_on="o_orderkey")
    high = j.o_orderpriority.isin(["1-URGENT", "2-HIGH"]).astype("int64")
    j = j.assign(high_line_count=high, low_line_count=1 - high)
    out = j.groupby("l_shipmode")[["high_line_count", "low_line_count"]].sum().compute()
    return _sorted(out.reset_index(), ["l_shipmode"], [True])


def q13(read: Reader) -> pd.DataFrame:
    """count(o_orderkey) over the left join = orders per customer, 0 for none."""
    o = read("orders", ["o_orderkey", "o_custkey", "o_comment"])
    o = o[~o.o_comment.str.contains("special.*requests", regex=True)]
    per_cust = o.groupby("o_custkey").o_orderkey.count().rename("c_count").reset_index()
    c = read("customer", ["c_custkey"])
    j = c.merge(per_cust, left_on="c_custkey", right_on="o_custkey", how="left")
    counts = j.c_count.fillna(0).astype("int64")
    out = counts.value_counts().compute().rename("custdist").rename_axis("c_count").reset_index()
    return _sorted(out, ["custdist", "c_count"], [False, False])


def q14(read: Reader) -> pd.DataFrame:
    cols = ["l_partkey", "l_extendedprice", "l_discount", "l_shipdate"]
    li = read("lineitem", cols)
    li = li[(li.l_shipdate >= _d("1995-09-01")) & (li.l_shipdate < _d("1995-10-01"))]
    j = li.merge(read("part", ["p_partkey", "p_type"]), left_on="l_partkey", right_on="p_partkey")
    revenue = _revenue(j)
    promo = revenue.where(j.p_type.str.startswith("PROMO"), 0.0)
    promo_sum, total = promo.sum().compute(), revenue.sum().compute()
    return pd.DataFrame({"promo_revenue": [100.0 * promo_sum / total]})


def q15(read: Reader) -> pd.DataFrame:
    """The view is computed once, so its max is the max of the very values it is compared with."""
    cols = ["l_suppkey", "l_extendedprice", "l_discount", "l_shipdate"]
    li = read("lineitem", cols)
    li = li[(li.l_shipdate >= _d("1996-01-01")) & (li.l_shipdate < _d("1996-04-01"))]
    li = li.assign(total_revenue=_revenue(li))
    rev = li.groupby("l_suppkey").total_revenue.sum().reset_index().compute()
    best = rev[rev.total_revenue == rev.total_revenue.max()]
    s = read("supplier", ["s_suppkey", "s_name", "s_address", "s_phone"]).compute()
    out = s.merge(best, left_on="s_suppkey", right_on="l_suppkey")
    cols = ["s_suppkey", "s_name", "s_address", "s_phone", "total_revenue"]
    return _sorted(out[cols], ["s_suppkey"], [True])


def q16(read: Reader) -> pd.DataFrame:
    """NOT IN over a non-null key list: an anti join with the complaining suppliers."""
    s = read("supplier", ["s_suppkey", "s_comment"])
    bad = s[s.s_comment.str.contains("Customer.*Complaints", regex=True)].s_suppkey.compute()
    p = read("part", ["p_partkey", "p_brand", "p_type", "p_size"])
    p = p[
        (p.p_brand != "Brand#45")
        & ~p.p_type.str.startswith("MEDIUM POLISHED")
        & p.p_size.isin([49, 14, 23, 45, 19, 3, 36, 9])
    ]
    ps = read("partsupp", ["ps_partkey", "ps_suppkey"])
    ps = ps[~ps.ps_suppkey.isin(bad.tolist())]
    j = ps.merge(p, left_on="ps_partkey", right_on="p_partkey")
    keys = ["p_brand", "p_type", "p_size"]
    out = j.groupby(keys).ps_suppkey.nunique().rename("supplier_cnt").reset_index().compute()
    return _sorted(out, ["supplier_cnt", *keys], [False, True, True, True])


def q17(read: Reader) -> pd.DataFrame:
    """The correlated avg is per part; only the selected parts' lines are needed for it."""
    p = read("part", ["p_partkey", "p_brand", "p_container"])
    p = p[(p.p_brand == "Brand#23") & (p.p_container == "MED BOX")]
    li = read("lineitem", ["l_partkey", "l_quantity", "l_extendedprice"])
    j = li.merge(p[["p_partkey"]], left_on="l_partkey", right_on="p_partkey")
    avg = j.groupby("l_partkey").l_quantity.mean().rename("avg_qty").reset_index()
    j = j.merge(avg, on="l_partkey")
    total = j[j.l_quantity < 0.2 * j.avg_qty].l_extendedprice.sum().compute()
    return pd.DataFrame({"avg_yearly": [total / 7.0]})


def q18(read: Reader) -> pd.DataFrame:
    """sum(l_quantity) per order is the IN subquery's own aggregate, reused for the output."""
    li = read("lineitem", ["l_orderkey", "l_quantity"])
    qty = li.groupby("l_orderkey").l_quantity.sum().rename("qty").reset_index()
    big = qty[qty.qty > 300]
    cols = ["o_orderkey", "o_custkey", "o_orderdate", "o_totalprice"]
    j = big.merge(read("orders", cols), left_on="l_orderkey", right_on="o_orderkey")
    c = read("customer", ["c_custkey", "c_name"])
    j = j.merge(c, left_on="o_custkey", right_on="c_custkey").compute()
    j = _sorted(j, ["o_totalprice", "o_orderdate"], [False, True]).head(100)
    return j[["c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice", "qty"]]


_Q19_TERMS = (
    ("Brand#12", ["SM CASE", "SM BOX", "SM PACK", "SM PKG"], 1, 11, 5),
    ("Brand#23", ["MED BAG", "MED BOX", "MED PKG", "MED PACK"], 10, 20, 10),
    ("Brand#34", ["LG CASE", "LG BOX", "LG PACK", "LG PKG"], 20, 30, 15),
)


def q19(read: Reader) -> pd.DataFrame:
    cols = ["l_partkey", "l_quantity", "l_extendedprice", "l_discount"]
    li = read("lineitem", [*cols, "l_shipmode", "l_shipinstruct"])
    li = li[li.l_shipmode.isin(["AIR", "AIR REG"]) & (li.l_shipinstruct == "DELIVER IN PERSON")]
    p = read("part", ["p_partkey", "p_brand", "p_container", "p_size"])
    j = li.merge(p, left_on="l_partkey", right_on="p_partkey")
    keep = None
    for brand, containers, lo, hi, size in _Q19_TERMS:
        term = (
            (j.p_brand == brand)
            & j.p_container.isin(containers)
            & (j.l_quantity >= lo)
            & (j.l_quantity <= hi)
            & (j.p_size >= 1)
            & (j.p_size <= size)
        )
        keep = term if keep is None else keep | term
    revenue = _revenue(j[keep]).sum().compute()
    return pd.DataFrame({"revenue": [revenue]})


def q20(read: Reader) -> pd.DataFrame:
    """The correlated sum is per (part, supplier); a pair without 1994 lines compares NULL
    (false), which the inner join drops."""
    p = read("part", ["p_partkey", "p_name"])
    forest = p[p.p_name.str.startswith("forest")][["p_partkey"]]
    ps = read("partsupp", ["ps_partkey", "ps_suppkey", "ps_availqty"])
    ps = ps.merge(forest, left_on="ps_partkey", right_on="p_partkey")
    li = read("lineitem", ["l_partkey", "l_suppkey", "l_quantity", "l_shipdate"])
    li = li[(li.l_shipdate >= _d("1994-01-01")) & (li.l_shipdate < _d("1995-01-01"))]
    shipped = li.groupby(["l_partkey", "l_suppkey"]).l_quantity.sum().rename("qty").reset_index()
    j = ps.merge(shipped, left_on=["ps_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"])
    keys = j[j.ps_availqty > 0.5 * j.qty][["ps_suppkey"]].drop_duplicates()
    s = read("supplier", ["s_suppkey", "s_name", "s_address", "s_nationkey"])
    s = s.merge(_nation_names(read, ["CANADA"]), left_on="s_nationkey", right_on="n_nationkey")
    out = s.merge(keys, left_on="s_suppkey", right_on="ps_suppkey").compute()
    return _sorted(out[["s_name", "s_address"]], ["s_name"], [True])


def q21(read: Reader) -> pd.DataFrame:
    """EXISTS another supplier on the order = the order has more than one distinct supplier;
    NOT EXISTS another late supplier = the late lines of the order have exactly one distinct
    supplier (l1's own, l1 being late)."""
    li = read("lineitem", ["l_orderkey", "l_suppkey", "l_commitdate", "l_receiptdate"])
    pairs = li[["l_orderkey", "l_suppkey"]].drop_duplicates()
    per_order = pairs.groupby("l_orderkey").l_suppkey.count()
    multi = per_order[per_order > 1].rename("n").reset_index()[["l_orderkey"]]
    late = li[li.l_receiptdate > li.l_commitdate][["l_orderkey", "l_suppkey"]]
    late_per_order = late.drop_duplicates().groupby("l_orderkey").l_suppkey.count()
    alone = late_per_order[late_per_order == 1].rename("n").reset_index()[["l_orderkey"]]
    s = read("supplier", ["s_suppkey", "s_name", "s_nationkey"])
    s = s.merge(
        _nation_names(read, ["SAUDI ARABIA"]), left_on="s_nationkey", right_on="n_nationkey"
    )
    o = read("orders", ["o_orderkey", "o_orderstatus"])
    o = o[o.o_orderstatus == "F"][["o_orderkey"]]
    j = late.merge(s[["s_suppkey", "s_name"]], left_on="l_suppkey", right_on="s_suppkey")
    j = j.merge(o, left_on="l_orderkey", right_on="o_orderkey")
    j = j.merge(multi, on="l_orderkey").merge(alone, on="l_orderkey")
    out = j.groupby("s_name").l_orderkey.count().rename("numwait").reset_index().compute()
    return _sorted(out, ["numwait", "s_name"], [False, True]).head(100)


def q22(read: Reader) -> pd.DataFrame:
    codes = ["13", "31", "23", "29", "30", "18", "17"]
    c = read("customer", ["c_custkey", "c_phone", "c_acctbal"])
    c = c.assign(cntrycode=c.c_phone.str.slice(0, 2))
    c = c[c.cntrycode.isin(codes)]
    avg = c[c.c_acctbal > 0.0].c_acctbal.mean()
    rich = c[c.c_acctbal > avg]
    buyers = read("orders", ["o_custkey"]).drop_duplicates()
    j = rich.merge(buyers, left_on="c_custkey", right_on="o_custkey", how="left")
    j = j[j.o_custkey.isna()]
    out = j.groupby("cntrycode").agg(
        numcust=("c_acctbal", "count"), totacctbal=("c_acctbal", "sum")
    )
    return _sorted(out.compute().reset_index(), ["cntrycode"], [True])


QUERIES: dict[int, Callable[[Reader], pd.DataFrame]] = {
    1: q1, 2: q2, 3: q3, 4: q4, 5: q5, 6: q6, 7: q7, 8: q8, 9: q9, 10: q10, 11: q11,
    12: q12, 13: q13, 14: q14, 15: q15, 16: q16, 17: q17, 18: q18, 19: q19, 20: q20,
    21: q21, 22: q22,
}  # fmt: skip
