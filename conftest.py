"""Every pytest session (tests/ and the doctests under hasivu_compute/) plans as the
engine does: with :mod:`hasivu_compute.exec` imported, which installs the evaluator
constant folding uses (``expr.simplify.use_constant_evaluator``; the expression and
plan layers cannot import execution). Without it a test run alone, such as the plan
golden files or a rule's doctest, would see unfolded plans.
"""

from __future__ import annotations

import hasivu_compute.exec  # noqa: F401  (installs the constant evaluator)
