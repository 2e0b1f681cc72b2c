"""Deterministic generators of the school-meals star schema (and helpers for TPC-H data)."""
