"""Optimizer rules, one pure function per module (``rule(plan, ctx) -> plan``)."""
