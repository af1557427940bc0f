"""fatdemo: one wheel, several builds of its extension; the best one for this CPU is imported.

`build()` names the build that was loaded, `isa()` lists what it was compiled for, `dot(a, b)`
does some work. Why that build: `python -m fatdemo._fitwheel_runtime fatdemo`.
"""

from ._fitwheel_runtime import Candidate, choose

# Most preferred first; a machine that supports none of them gets the baseline. A module not
# built for this machine's architecture is never tried (its properties are not supported).
CANDIDATES = [
    Candidate("_impl_x86_64_v3", ["x86_64 :: level :: v3"]),
    Candidate("_impl_x86_64_v2", ["x86_64 :: level :: v2"]),
    Candidate("_impl_aarch64_sve", ["aarch64 :: version :: 8.2a", "aarch64 :: sve :: on"]),
    Candidate("_impl_aarch64_v8_2a", ["aarch64 :: version :: 8.2a"]),
]

_impl = choose(__name__, CANDIDATES, baseline="_impl_baseline")

build = _impl.build
isa = _impl.isa
dot = _impl.dot

__all__ = ["build", "dot", "isa"]
