"""Immutable expression tree, builders, binder, evaluation on Arrow, simplifier, pruning evaluators."""
