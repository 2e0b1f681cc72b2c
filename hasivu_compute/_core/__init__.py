"""Shared ground for every layer: the error hierarchy and settings. Imports nothing internal."""
