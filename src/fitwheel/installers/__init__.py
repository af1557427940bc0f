"""`fitwheel pip` / `fitwheel uv`: the real installer, run behind a resolving proxy.

Each wrapper finds the indexes the installer would have used (its arguments, environment and
configuration), finds (or starts) this user's shared `fitwheel serve` on 127.0.0.1 for those
upstreams (in their precedence order) and its profile (`installers.shared`), or starts an
ephemeral one in its own process (`installers.proxy`), runs the installer with its index
replaced by the proxy, and returns the installer's exit status.
"""

from fitwheel.errors import UnroutableIndex

__all__ = ["UnroutableIndex"]
