"""Selection: the best file of each release for a profile, with the reasons the others lost.

Pure over its inputs: a project page, a profile and the releases' variants documents. It never
probes the machine; detection happens once, at the edge.
"""

from __future__ import annotations

from fitwheel.select.choose import Rejection, ReleaseChoice, choose, resolve_page

__all__ = ["Rejection", "ReleaseChoice", "choose", "resolve_page"]
