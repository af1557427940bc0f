"""Fixtures shared by the test modules; the helpers they use live in `tests/helpers/`."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.nginx import start_nginx
from helpers.serve_fixtures import build_index
from helpers.shared import CACHE_DIRS, stop_shared_proxies


@pytest.fixture(autouse=True)
def _no_shared_proxy_left() -> Iterator[None]:
    """Stop the shared proxies a test's wrapper runs started (cache folders of `clean_env`)."""
    yield
    while CACHE_DIRS:
        stop_shared_proxies(CACHE_DIRS.pop())


@dataclass(frozen=True)
class Served:
    """The variant catalogue of `helpers.serve_fixtures.build_index`, served by nginx."""

    url: str
    out: Path
    root: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A real static index (`fitwheel index build` output) behind nginx on 127.0.0.1, one per
    test module that asks for it (modules' tests change nothing in it)."""
    root = tmp_path_factory.mktemp("served")
    out = build_index(root)
    with start_nginx(out, root) as nginx:
        yield Served(nginx.url, out, root)


_counter = itertools.count()
MakePackage = Callable[..., str]
"""`make_package(modules, broken=())` -> the name of an imported package (a fat wheel's
layout): each module sets `BUILD` to its own name; a broken one raises ImportError."""


@pytest.fixture
def make_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakePackage]:
    """Write a package whose submodules set BUILD to their name, or raise, and import it."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(modules: Sequence[str], broken: Sequence[str] = ()) -> str:
        name = f"fatpkg{next(_counter)}"
        root = tmp_path / name
        root.mkdir()
        (root / "__init__.py").write_text("")
        for module in modules:
            (root / f"{module}.py").write_text(f"BUILD = {module!r}\n")
        for module in broken:
            (root / f"{module}.py").write_text("raise ImportError('illegal instruction set')\n")
        __import__(name)
        created.append(name)
        return name

    yield make
    for name in list(sys.modules):
        if name.split(".")[0] in created:
            del sys.modules[name]


def build_of(module: object) -> str:
    return str(getattr(module, "BUILD"))  # noqa: B009 - the submodules are written at test time
