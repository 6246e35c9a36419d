"""Spellings of other frameworks that map onto numkeras (``numkeras.compat.tf``)."""
