"""`fitwheel.progress`: nothing shown without a display or before a step takes a while;
throttled lines while it runs; the closing line only for a step that was shown."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from fitwheel import progress


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, bool]]]:
    lines: list[tuple[str, bool]] = []
    monkeypatch.setattr(progress, "AFTER", 0.2)
    monkeypatch.setattr(progress, "EVERY", 0.1)
    progress.show_with(lambda line, last: lines.append((line, last)))
    yield lines
    progress.show_with(None)


def test_nothing_once_the_display_is_removed(shown: list[tuple[str, bool]]) -> None:
    count = progress.Count("building index", 3, "files")
    count.started -= 10  # long past the threshold
    count.update(1)
    progress.show_with(None)
    count.update(3)
    assert shown == [("building index: 1/3 files", False)]


def test_a_quick_step_shows_nothing(shown: list[tuple[str, bool]]) -> None:
    count = progress.Count("building index", 3, "files")
    for done in (1, 2, 3):
        count.update(done)
    with progress.Waiting("the driver") as waiting:
        waiting.tick()
    assert shown == []


def test_a_slow_count_is_throttled_and_closed(shown: list[tuple[str, bool]]) -> None:
    count = progress.Count("building index", 3000, "files")
    count.started -= 1  # it has run a second already
    count.update(1200)
    count.update(1300)  # within EVERY of the last line: not shown
    time.sleep(0.12)
    count.update(2000)
    count.update(3000)  # the last is always shown
    assert shown == [
        ("building index: 1,200/3,000 files", False),
        ("building index: 2,000/3,000 files", False),
        ("building index: 3,000/3,000 files", True),
    ]


def test_waiting_ticks_from_its_own_thread(shown: list[tuple[str, bool]]) -> None:
    with progress.Waiting("the index", ticking=True):
        time.sleep(0.45)
    *waiting, (last, closed) = shown
    assert closed and last.startswith("waited for the index (0.")
    assert 1 <= len(waiting) <= 3, waiting
    assert all(line.startswith("waiting for the index (0.") for line, _ in waiting)
    assert all(line.endswith(" s)…") and not end for line, end in waiting)
