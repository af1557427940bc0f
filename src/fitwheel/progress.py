"""Progress of steps that can take more than a second, for a front end that wants to show it.

Library code says what it waits for (`Waiting("the NVIDIA driver probe")`, ticked from its
wait loop) or how far it is (`Count("building index", total, "files")`); nothing is shown
unless a front end (the CLI) installed a display with `show_with`, and then only once a step
has taken more than `AFTER` seconds, and at most every `EVERY` seconds. This module imports
nothing at all: it sits on the path of `fitwheel detect`.

The display is the one piece of process-wide state, like logging's handlers: it is set by the
program's front end, once, never by the library.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType
    from typing import Any

    Display = Callable[[str, bool], None]
    """`display(line, last)`: show `line`; `last` when the step is over (a line of its own)."""

AFTER = 1.0
"""Seconds a step runs before its progress is shown."""

EVERY = 0.5
"""Seconds between two lines of one step."""

_display: list[Display] = []


def show_with(display: Display | None) -> None:
    """Show progress through `display` from now on (None: show nothing)."""
    _display[:] = [] if display is None else [display]


class _Step:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self._shown_at: float | None = None

    def _show(self, line: str, *, last: bool = False) -> None:
        if not _display:
            return
        now = time.monotonic()
        if now - self.started < AFTER:
            return
        if not last and self._shown_at is not None and now - self._shown_at < EVERY:
            return
        self._shown_at = now
        _display[0](line, last)


class Waiting(_Step):
    """`fitwheel: waiting for WHAT (2.1 s)…` while `tick()` is called; a context manager.

    `ticking=True` ticks from a thread of its own, for a wait that has no loop to tick from
    (one blocking call); the thread is started only when there is a display.
    """

    def __init__(self, what: str, *, ticking: bool = False) -> None:
        super().__init__()
        self.what = what
        self._ticking = ticking
        self._stop: Any = None
        self._thread: Any = None

    def tick(self) -> None:
        self._show(f"waiting for {self.what} ({time.monotonic() - self.started:.1f} s)…")

    def __enter__(self) -> Waiting:
        if self._ticking and _display:
            import threading

            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._tick_until_stopped, daemon=True)
            self._thread.start()
        return self

    def _tick_until_stopped(self) -> None:
        while not self._stop.wait(EVERY / 2):
            self.tick()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        elapsed = time.monotonic() - self.started
        self._show(f"waited for {self.what} ({elapsed:.1f} s)", last=True)


class Count(_Step):
    """`fitwheel: building index: 1,200/3,000 files`, updated as `done` grows."""

    def __init__(self, what: str, total: int, unit: str) -> None:
        super().__init__()
        self.what, self.total, self.unit = what, total, unit

    def update(self, done: int) -> None:
        line = f"{self.what}: {done:,}/{self.total:,} {self.unit}"
        self._show(line, last=done >= self.total)
