"""cmakedemo: one variant wheel per x86-64 level; `level()` says which build is installed."""

from ._native import dot, level

__all__ = ["dot", "level"]
