"""Kernels: vectorised computations on Arrow data that the operators call.

* :mod:`.evaluate` evaluates a bound expression on a batch (SQL semantics, DuckDB as
  the reference), with the string (:mod:`.text`) and calendar (:mod:`.dates`)
  function kernels; :mod:`.arrow` translates expressions for Acero push-down.
* :mod:`.aggsteps` runs a split aggregate (partial → combine → finalize) on tables;
  :mod:`.aggbase` is the per-function contract, implemented in :mod:`.aggregates`,
  :mod:`.quantiles` and :mod:`.string_agg`, with list states (:mod:`.liststates`),
  exact integer sums (:mod:`.sums`) and DuckDB's float order (:mod:`.floats`).

What they compute on is decided below, in :mod:`hasivu_compute.expr`: the trees,
their binding and result types (CAST's semantics too, ``expr.casts``, which zone-map
pruning shares), the aggregate registry and each aggregate's state types (what the
planner needs to lay out partial results, ``expr.aggsplit``).
"""
