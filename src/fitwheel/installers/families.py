"""Which index families `fitwheel pip` / `fitwheel uv` use when none is named.

The built-in `pytorch` family is on when the installer would read PyPI and nothing else, so
`fitwheel pip install torch` gets the build that fits the machine with no flag: PyPI carries
one build of torch per platform (a CUDA build on Linux x86-64) and PyTorch's own install
instructions send users to its per-accelerator indexes. With any other index configured (a
mirror, a company index, a proxy) it is off: the user chose where packages come from, and an
install must not start reaching another host, nor take torch from anywhere but that index.
`--index-family none` (or `FITWHEEL_INDEX_FAMILIES=none`) turns the default off.
"""

from __future__ import annotations

from collections.abc import Sequence

PYPI_SIMPLE = "https://pypi.org/simple"
DEFAULT_FAMILIES = ("pytorch",)


def default_families(upstreams: Sequence[str]) -> tuple[str, ...]:
    """The family specs on by default for an installer reading `upstreams`."""
    if tuple(u.rstrip("/") for u in upstreams) == (PYPI_SIMPLE,):
        return DEFAULT_FAMILIES
    return ()
