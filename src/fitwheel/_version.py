"""The version of fitwheel (one place; `fitwheel.__version__` re-exports it)."""

__version__ = "0.1.0"
