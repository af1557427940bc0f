"""How each upstream has answered lately, as the proxy fetches: kept for the status page.

Only requests the proxy makes anyway are counted (project pages, the root page, family
members, relayed files); the status page never asks an upstream anything. URLs are kept
without their user info, and an error line is cut to `MAX_ERROR_CHARS`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from fitwheel.index.credentials import origin, redact
from fitwheel.index.local import is_local, local_path

MAX_ERROR_CHARS = 300
"""An error line longer than this is cut (upstream text is shown on a page)."""


@dataclass(frozen=True)
class UpstreamState:
    """One upstream: when it last answered, when it last failed and how (wall-clock seconds)."""

    url: str
    kind: str
    """`index` (an `--upstream`) or `family NAME` (an index family's base URL)."""
    last_success: float | None = None
    last_failure: float | None = None
    last_error: str | None = None
    successes: int = 0
    failures: int = 0

    @property
    def healthy(self) -> bool | None:
        """None until it was asked; then whether its last answer was a success."""
        if self.last_success is None and self.last_failure is None:
            return None
        return (self.last_failure or 0.0) <= (self.last_success or 0.0)


class UpstreamHealth:
    """The state of every upstream the server was given, updated as requests end."""

    def __init__(self, upstreams: Iterable[tuple[str, str]]) -> None:
        self._states: dict[str, UpstreamState] = {}
        self._prefixes: dict[str, str] = {}
        """Where an upstream's pages and files are (a local folder's `file:` URL) -> its URL."""
        for url, kind in upstreams:
            shown = redact(url)
            self._states.setdefault(shown, UpstreamState(shown, kind))
            where = local_path(url).resolve().as_uri() if is_local(url) else shown
            self._prefixes.setdefault(where.rstrip("/") + "/", shown)
        self.changes = 0
        """Bumped on every update: a rendered page of the states is good while it stays."""

    def states(self) -> tuple[UpstreamState, ...]:
        return tuple(self._states.values())

    def succeeded(self, url: str) -> None:
        state = self._find(url)
        if state is not None:
            self._put(replace(state, last_success=time.time(), successes=state.successes + 1))

    def failed(self, url: str, error: str) -> None:
        state = self._find(url)
        if state is not None:
            line = " ".join(error.split())
            if len(line) > MAX_ERROR_CHARS:
                line = line[: MAX_ERROR_CHARS - 1] + "…"
            self._put(
                replace(
                    state,
                    last_failure=time.time(),
                    last_error=line,
                    failures=state.failures + 1,
                )
            )

    def _find(self, url: str) -> UpstreamState | None:
        """The upstream `url` belongs to: the one it is, else the longest whose URL it starts
        with (a page or file under it), else one on its origin (files an index links to on
        its own host); None for a host that is no upstream (a CDN)."""
        shown = redact(url)
        if shown in self._states:
            return self._states[shown]
        under = [prefix for prefix in self._prefixes if shown.startswith(prefix)]
        if under:
            return self._states[self._prefixes[max(under, key=len)]]
        where = origin(shown)
        if where is None:
            return None
        return next((s for s in self._states.values() if origin(s.url) == where), None)

    def _put(self, state: UpstreamState) -> None:
        self._states[state.url] = state
        self.changes += 1
