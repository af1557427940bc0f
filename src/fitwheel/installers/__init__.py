"""`fitwheel pip` / `fitwheel uv`: the real installer, run behind an ephemeral resolving proxy.

Each wrapper finds the indexes the installer would have used (its arguments, environment and
configuration), starts `fitwheel.serve` on 127.0.0.1 with those as upstreams (in their
precedence order), runs the installer with its index replaced by the proxy, and returns the
installer's exit status.
"""

from fitwheel.errors import UnroutableIndex

__all__ = ["UnroutableIndex"]
