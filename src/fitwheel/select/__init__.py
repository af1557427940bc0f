"""Selection: the best file of each release for a target, with the reasons the others lost.

Pure over its inputs: a project page, a `Target` (a profile with its tags, computed once) and
the releases' variants documents. It never probes the machine; detection happens at the edge.
"""

from __future__ import annotations

from fitwheel.select.choose import (
    Rejection,
    ReleaseChoice,
    Resolution,
    choice_to_json,
    choose,
    resolve,
    resolve_page,
)
from fitwheel.select.families import choose_in_family, follow_anchor, resolve_in_family
from fitwheel.select.target import Target, interpreter_tags

__all__ = [
    "Rejection",
    "ReleaseChoice",
    "Resolution",
    "Target",
    "choice_to_json",
    "choose",
    "choose_in_family",
    "follow_anchor",
    "interpreter_tags",
    "resolve",
    "resolve_in_family",
    "resolve_page",
]
