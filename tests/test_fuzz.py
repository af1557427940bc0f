"""Every parser, fuzzed with a small budget: each input parses or raises fitwheel's documented
error (a `FitwheelError` subclass). `benchmarks/fuzz.py` runs the same targets 100,000 times
each; what it finds becomes a fixed vector here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from helpers.fuzz import TARGETS, Target, cleanup, unexpected

# A time budget per parser; the full run is benchmarks/fuzz.py.
pytestmark = pytest.mark.slow

FAST_BUDGET = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Inputs the long fuzz runs (and the reports) turned up: each once made a parser
# raise something other than a FitwheelError, hang or allocate without bound.
VECTORS: list[tuple[str, bytes]] = [
    ("variants_json", b"[" * 1000 + b"]" * 1000),
    (
        "variants_json",
        b'{"$schema": "x/v0.1.1.json", "variants": ' + b"[" * 900 + b"]" * 900 + b"}",
    ),
    ("variants_json", b"[1" + b"0" * 5000 + b"]"),
    ("profile", b"a = 1" + b"0" * 5000),
    ("profile", b"a = " + b"[" * 1000 + b"]" * 1000),
    (
        "profile",
        b'[interpreter]\nplatforms = 7\n[facts.nvidia]\ncuda_driver_version = "999999999999"\n',
    ),
    ("profile", b"\xff\xfe"),
    ("html_page", b'<a href="http://[::1/x">demo-1.0.tar.gz</a>'),
    ("html_page", b"<base href='http://[::1/'><a href='demo-1.0.tar.gz'>x</a>"),
    (
        "json_page",
        b'{"meta": {"api-version": "1.0"}, "files": [{"filename": "a", "url": "http://[::1/", "hashes": {}}]}',
    ),
    ("cpuinfo", b"flags\t: " + b"x " * 100_000),
    ("property", b"a :: b :: " + b"c" * 100_000),
    ("filename", b"demo-1" + b"0" * 5000 + b"-py3-none-any.whl"),
    ("html_page", b"<![[[[[[[[[[[[[[[[[["),
    ("html_page", b'<a href="demo-1' + b"0" * 5000 + b'.tar.gz">x</a>'),
    (
        "variants_json",
        b'{"$schema": "https://variants-schema.wheelnext.dev/peps/850/v0.2.0.json", '
        b'"default-priorities": {"namespace": ["nvidia"]}, "providers": {"nvidia": '
        b'{"requires": ["nvidia-variant-provider"]}}, "variants": {"a": {"nvidia": '
        b'{"cuda_version_lower_bound": ["1' + b"2" * 5000 + b'"]}}}}',
    ),
    (
        "profile",
        b'[interpreter]\npython_version = "3.12"\n[facts.amd]\ngfx_archs = ["gfx942"]\n'
        b'rocm_version = "6.111111111112"\n',
    ),
]


@pytest.fixture(autouse=True, scope="module")
def _scratch() -> Iterator[None]:
    yield
    cleanup()


@pytest.mark.parametrize(
    ("name", "data"), VECTORS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VECTORS)]
)
def test_fixed_vectors(name: str, data: bytes) -> None:
    assert unexpected(TARGETS[name], data) is None


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_parse(name: str) -> None:
    target = TARGETS[name]
    for seed in target.seeds():
        target.run(seed)  # a valid input must not even raise a documented error


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_fast_budget(name: str) -> None:
    target: Target = TARGETS[name]

    @FAST_BUDGET
    @given(data=target.strategy())
    def check(data: bytes) -> None:
        assert unexpected(target, data) is None

    check()


def test_the_mutator_is_deterministic() -> None:
    import random

    from helpers.fuzz import mutate

    seed = TARGETS["variants_json"].seeds()[0]
    assert mutate(random.Random(1), seed) == mutate(random.Random(1), seed)
