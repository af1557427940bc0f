"""fitwheel: install the build of a Python package that fits the machine (wheel variants, PEP 825)."""

__version__ = "0.1.0"
