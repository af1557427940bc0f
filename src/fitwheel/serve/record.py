"""What a proxy handed out and which upstream failures it answered, numbered in order.

A wrapper that shares one proxy with other runs notes the number when its run starts and asks,
when the installer has finished, for what came after it (`Record.since`); an ephemeral proxy's
wrapper asks for everything (`since(0)`). Only the newest events are kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

KEPT = 4096
"""Events remembered; a run older than this many events gets what is left."""


@dataclass(frozen=True)
class ChosenBuild:
    """A variant build the proxy handed to an installer: what, and in one line why."""

    project: str
    version: str
    label: str
    reason: str

    def __str__(self) -> str:
        return f"{self.project} {self.version} -> {self.label} ({self.reason})"

    def as_dict(self) -> dict[str, str]:
        return {"project": self.project, "version": self.version, "label": self.label,
                "reason": self.reason}  # fmt: skip

    @classmethod
    def from_dict(cls, data: object) -> ChosenBuild | None:
        """The build a `/since/N` answer describes (None: not one)."""
        if not isinstance(data, dict):
            return None
        fields = [data.get(name) for name in ("project", "version", "label", "reason")]
        if not all(isinstance(f, str) for f in fields):
            return None
        return cls(*(str(f) for f in fields))


@dataclass(frozen=True)
class Since:
    """The events after a number: the newest build handed out per project (by project name),
    the builds each served page stood for (by project, then version; the newest page), the
    last upstream failure, and the number to ask from next time."""

    seq: int
    chosen: tuple[ChosenBuild, ...]
    offered: dict[str, dict[str, ChosenBuild]]
    failure: str | None


_Event = ChosenBuild | str | tuple[str, dict[str, ChosenBuild]]


class Record:
    """The numbered events of one proxy (an explicit, bounded log)."""

    def __init__(self, kept: int = KEPT) -> None:
        self.seq = 0
        self._events: deque[tuple[int, _Event]] = deque(maxlen=kept)

    def handed_out(self, build: ChosenBuild) -> None:
        """A variant build's file (or its metadata) was served."""
        self._append(build)

    def failed(self, message: str) -> None:
        """An upstream failure was answered to a client."""
        self._append(message)

    def offered(self, project: str, builds: dict[str, ChosenBuild]) -> None:
        """A page was served whose releases stand for `builds` (by version)."""
        self._append((project, builds))

    def _append(self, event: _Event) -> None:
        self.seq += 1
        self._events.append((self.seq, event))

    def since(self, seq: int) -> Since:
        chosen: dict[str, ChosenBuild] = {}
        offered: dict[str, dict[str, ChosenBuild]] = {}
        failure = None
        for number, event in self._events:
            if number <= seq:
                continue
            if isinstance(event, ChosenBuild):
                chosen[event.project] = event
            elif isinstance(event, tuple):
                offered[event[0]] = event[1]
            else:
                failure = event
        return Since(self.seq, tuple(chosen[name] for name in sorted(chosen)), offered, failure)
