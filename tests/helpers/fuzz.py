"""Fuzzing fitwheel's parsers: each target feeds one input (bytes) through a parser and what
consumes its result; the input must parse, or raise fitwheel's documented error (a
`FitwheelError` subclass). Anything else is a finding.

Two engines share the targets: hypothesis strategies (`Target.strategy`, the fast budget of
the test run) and a seeded byte-level mutator over valid seeds (`mutate`, the long runs of
`benchmarks/fuzz.py`, fast enough for 100,000 inputs per target).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import random
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from hypothesis import strategies as st
from packaging.markers import default_environment

from fitwheel.decoding import loads_json
from fitwheel.detect import profile_document
from fitwheel.errors import FitwheelError, InvalidVariantMetadata
from fitwheel.index.html import parse_html_page, parse_links_page
from fitwheel.index.json_api import parse_json_page
from fitwheel.index.scan import read_file
from fitwheel.index.zipdir import member_list, read_member
from fitwheel.profile import profile_from_document
from fitwheel.providers import BUILTIN_NAMESPACES
from fitwheel.runtime import aarch64_properties, read_cpu_flags, x86_64_properties
from fitwheel.variants.check import check_document
from fitwheel.variants.filename import parse_variant_wheel_filename
from fitwheel.variants.merge import merge_documents
from fitwheel.variants.metadata import (
    SCHEMA_PEP817,
    SCHEMA_PEP825,
    SCHEMA_PROVIDERS,
    dumps_variants_document,
    loads_variants_document,
)
from fitwheel.variants.ordering import rank
from fitwheel.variants.properties import parse_property
from fitwheel.variants.support import SupportedProperties
from fitwheel.wheel.archive import VARIANT_JSON, open_wheel
from wheelmaker import make_wheel

URL = "https://example.org/simple/demo/"
ENVIRONMENT: dict[str, str] = {key: str(value) for key, value in default_environment().items()}
SUPPORT = SupportedProperties.from_mapping(
    {
        "x86_64": {"level": ["v3", "v2", "v1"], "avx2": ["on"]},
        "nvidia": {"cuda_version_lower_bound": ["12.8", "12.0", "12"], "sm_arch": ["86_real"]},
        "blas": {"impl": ["mkl", "openblas"]},
    }
)


@functools.cache
def scratch() -> Path:
    """One temporary folder per process for the targets that need a file."""
    return Path(tempfile.mkdtemp(prefix="fitwheel-fuzz-"))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def run_filename(data: bytes) -> None:
    parsed = parse_variant_wheel_filename(_text(data))
    assert parse_variant_wheel_filename(parsed.filename) == parsed


def run_property(data: bytes) -> None:
    prop = parse_property(_text(data))
    assert parse_property(str(prop)) == prop


def run_variants_json(data: bytes) -> None:
    document = loads_variants_document(data, where="fuzz")
    rank(document, SUPPORT, environment=ENVIRONMENT, provided_namespaces=BUILTIN_NAMESPACES)
    merge_documents(document, document)
    check_document(loads_json(data, where="fuzz", error=InvalidVariantMetadata), where="fuzz")
    again = loads_variants_document(dumps_variants_document(document), where="again")
    assert again.variants == document.variants


def run_profile(data: bytes) -> None:
    path = scratch() / "profile.toml"
    path.write_bytes(data)
    document = profile_document(str(path))
    profile_from_document(document, where="fuzz")


def run_html_page(data: bytes) -> None:
    parse_html_page(_text(data), url=URL, project="demo")
    parse_links_page(_text(data), url=URL + "links.html", project="demo")


def run_json_page(data: bytes) -> None:
    parse_json_page(data, url=URL, project="demo")


def run_wheel(data: bytes) -> None:
    members = member_list(data)  # the fast reader answers or declines, never raises
    for info in members or ():
        read_member(data, info)
    folder = scratch()
    name = "demo-1.0-py3-none-any-v3.whl"
    (folder / name).write_bytes(data)
    with contextlib.suppress(FitwheelError):
        read_file(str(folder), name, "demo")  # the index build's reader
    archive = open_wheel(folder / name)  # make-variant's and inspect's
    archive.read_dist_info("METADATA")
    archive.read_dist_info(VARIANT_JSON)


def run_cpuinfo(data: bytes) -> None:
    proc = scratch() / "root" / "proc"
    proc.mkdir(parents=True, exist_ok=True)
    (proc / "cpuinfo").write_bytes(data)
    flags = read_cpu_flags(str(proc.parent))
    x86_64_properties(flags)
    aarch64_properties(flags)


# ---- seeds: valid inputs of each kind ------------------------------------------------------

_NVIDIA = {
    "requires": ["nvidia-variant-provider"],
    "plugin-api": "nvidia_variant_provider.plugin:NvidiaVariantPlugin",
}
VARIANTS_SEEDS = tuple(
    json.dumps(document).encode()
    for document in (
        {
            "$schema": SCHEMA_PEP825,
            "default-priorities": {
                "namespace": ["x86_64", "blas"],
                "feature": {"blas": ["impl"]},
                "property": {"blas": {"impl": ["mkl", "openblas"]}},
            },
            "variants": {
                "v3_mkl": {"blas": {"impl": ["mkl"]}, "x86_64": {"level": ["v3"]}},
                "v2": {"x86_64": {"level": ["v2", "v1"]}},
                "null": {},
            },
        },
        {
            "$schema": SCHEMA_PROVIDERS,
            "default-priorities": {"namespace": ["nvidia", "blas"]},
            "providers": {
                "nvidia": _NVIDIA,
                "blas": {"static-properties": {"impl": ["openblas", "mkl"]}},
            },
            "variants": {
                "cu128": {"nvidia": {"cuda_version_lower_bound": ["12.8"], "sm_arch": ["86_real"]}},
                "ob": {"blas": {"impl": ["openblas"]}},
                "null": {},
            },
        },
        {
            "$schema": SCHEMA_PEP817,
            "default-priorities": {"namespace": ["nvidia"]},
            "providers": {"nvidia": {**_NVIDIA, "enable-if": "platform_system == 'Linux'"}},
            "variants": {"cu12": {"nvidia": {"cuda_version_lower_bound": ["12"]}}},
        },
    )
)
PROFILE_SEEDS = (
    tomli_w.dumps(
        {
            "interpreter": {
                "implementation": "cpython",
                "python_version": "3.12.8",
                "abis": ["cp312", "abi3", "none"],
                "platforms": ["manylinux_2_28_x86_64", "linux_x86_64"],
            },
            "variants": {"blas": {"impl": ["mkl"]}},
            "facts": {
                "cpu": {"architecture": "x86_64", "x86_64_level": "v3"},
                "nvidia": {"cuda_driver_version": "12.8", "compute_capabilities": ["8.6"]},
                "amd": {"gfx_archs": ["gfx942"], "rocm_version": "6.2"},
            },
        }
    ).encode(),
)
HTML_SEEDS = (
    b'<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1"></head>'
    b'<body><a href="../../files/demo-1.0%2Bcu128-cp311-cp311-linux_x86_64.whl#sha256=ABCD" '
    b'data-requires-python="&gt;=3.9" data-core-metadata="sha256=0123">demo</a><br/>'
    b'<a href="https://cdn.example.org/demo-1.0.tar.gz#sha256=abcdef" data-yanked="broken">x</a>'
    b'<a href="demo-0.9-py3-none-any-v3.whl" data-yanked="">demo-0.9</a>'
    b'<a href="demo-0.9-variants.json">v</a></body></html>',
)
JSON_PAGE_SEEDS = (
    json.dumps(
        {
            "meta": {"api-version": "1.1"},
            "name": "demo",
            "files": [
                {
                    "filename": "demo-1.0-py3-none-any-v3.whl",
                    "url": "../../f/demo-1.0-py3-none-any-v3.whl",
                    "hashes": {"sha256": "ab"},
                    "requires-python": ">=3.9",
                    "core-metadata": {"sha256": "cd"},
                    "size": 10,
                    "yanked": False,
                }
            ],
            "versions": ["1.0"],
        }
    ).encode(),
)
FILENAME_SEEDS = tuple(
    name.encode()
    for name in (
        "demo-1.0-py3-none-any.whl",
        "demo-1.0-1-cp313-cp313t-musllinux_1_2_x86_64-x86_64_v3.whl",
        "numpy-2.3.2-cp313-cp313t-musllinux_1_2_x86_64-null.whl",
        "torch-2.9.0+cu126-cp311-cp311-manylinux_2_28_x86_64-cuda12.6.whl",
    )
)
PROPERTY_SEEDS = (b"x86_64 :: level :: v3", b"nvidia::sm_arch::86_real", b" a :: b :: c.d ")
CPUINFO_SEEDS = (
    b"processor\t: 0\nflags\t\t: fpu sse2 cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3 avx avx2 "
    b"bmi1 bmi2 f16c fma abm movbe xsave\n\nprocessor\t: 1\n",
    b"processor\t: 0\nFeatures\t: fp asimd evtstrm aes sha1 atomics fphp asimdhp sve\n\n",
)


def wheel_seeds() -> tuple[bytes, ...]:
    folder = Path(tempfile.mkdtemp(prefix="fitwheel-fuzz-seed-"))
    variant = json.loads(VARIANTS_SEEDS[0])
    variant["variants"] = {"v3": {"x86_64": {"level": ["v3"]}}}
    wheel = make_wheel(
        folder,
        "demo",
        "1.0",
        files={
            "demo/__init__.py": "x = 1\n" * 20,
            "demo-1.0.dist-info/variant.json": json.dumps(variant),
        },
    )
    plain = wheel.read_bytes()
    stored = io.BytesIO()
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(stored, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            info.compress_type = zipfile.ZIP_STORED
            out.writestr(info, data)
    return plain, stored.getvalue()


# ---- hypothesis strategies ----------------------------------------------------------------

_NAME = st.text(alphabet="abcxyz019_", min_size=1, max_size=6)
_VALUE = st.text(alphabet="abc019_.", min_size=1, max_size=6)
_ANY_TEXT = st.text(max_size=40)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def _variants_documents(draw: st.DrawFn) -> bytes:
    namespaces = draw(st.lists(_NAME, min_size=0, max_size=3, unique=True))
    ns = st.sampled_from(namespaces) if namespaces else _NAME
    table = st.dictionaries(ns, st.dictionaries(_NAME, st.lists(_VALUE, max_size=3), max_size=2))
    provider = st.fixed_dictionaries(
        {},
        optional={
            "requires": st.lists(st.sampled_from(["nvidia-variant-provider", "p", ""]), max_size=2)
            | _ANY_TEXT,
            "plugin-api": st.sampled_from(["a.b:C", "x86_64_variant_provider", "not ok"]),
            "static-properties": st.dictionaries(_NAME, st.lists(_VALUE, max_size=3), max_size=2),
            "feature-order": st.lists(_NAME, max_size=3),
            "optional": st.booleans(),
            "enable-if": st.sampled_from(["python_version >= '3'", "bad ((", "platform_system"]),
            "builtin": _NAME,
        },
    )
    document = draw(
        st.fixed_dictionaries(
            {
                "$schema": st.sampled_from([SCHEMA_PEP817, SCHEMA_PROVIDERS, SCHEMA_PEP825])
                | _ANY_TEXT,
                "default-priorities": st.fixed_dictionaries(
                    {"namespace": st.just(namespaces)},
                    optional={
                        "feature": st.dictionaries(ns, st.lists(_NAME, max_size=3)),
                        "property": st.dictionaries(
                            ns, st.dictionaries(_NAME, st.lists(_VALUE, max_size=3))
                        ),
                    },
                ),
                "variants": st.dictionaries(
                    st.sampled_from(["null", "a", "v3", "x.y", "BAD", ""]) | _NAME, table
                ),
            },
            optional={"providers": st.dictionaries(ns, provider, max_size=3), "x": _JSON},
        )
    )
    return json.dumps(document).encode()


@st.composite
def _profiles(draw: st.DrawFn) -> bytes:
    interpreter = st.fixed_dictionaries(
        {},
        optional={
            "implementation": st.sampled_from(["cpython", "pypy", 7]),
            "python_version": st.sampled_from(["3.12.8", "3.1000000000", "x", ""]),
            "abis": st.lists(_NAME, max_size=3) | st.integers(),
            "platforms": st.lists(_NAME, max_size=3) | st.integers(),
        },
    )
    facts = st.fixed_dictionaries(
        {},
        optional={
            "cpu": st.dictionaries(
                st.sampled_from(["architecture", "x86_64_level", "aarch64_version", "flags"]),
                st.sampled_from(["x86_64", "aarch64", "v3", "8a", "zz"]) | st.integers(),
            ),
            "nvidia": st.dictionaries(
                st.sampled_from(["cuda_driver_version", "compute_capabilities"]),
                st.sampled_from(["12.8", "999999999999", "8.6", ""])
                | st.lists(st.sampled_from(["8.6", "x", "9"]), max_size=2)
                | st.floats(allow_nan=False, allow_infinity=False),
            ),
            "amd": st.dictionaries(
                st.sampled_from(["gfx_archs", "rocm_version"]),
                st.lists(st.sampled_from(["gfx942", "zz"]), max_size=2) | _ANY_TEXT,
            ),
        },
    )
    document = draw(
        st.fixed_dictionaries(
            {"interpreter": interpreter},
            optional={
                "variants": st.dictionaries(
                    _NAME, st.dictionaries(_NAME, st.lists(_VALUE, max_size=3))
                ),
                "facts": facts,
            },
        )
    )
    return tomli_w.dumps(document).encode()


_HREF = st.sampled_from(
    [
        "demo-1.0-py3-none-any.whl",
        "http://[::1/x",
        "../demo-1.0.tar.gz#sha256=zz",
        "demo-1.0-variants.json",
        "",
        "#frag",
    ]
) | st.text(max_size=20)
_ANCHOR = st.builds(
    lambda href, attrs, text: f'<a href="{href}" {attrs}>{text}</a>',
    _HREF,
    st.sampled_from(["", 'data-yanked=""', 'data-core-metadata="sha256=1"', "data-x"]),
    st.text(max_size=10),
)
_HTML = st.builds(
    lambda anchors, junk: "<html><body>" + "".join(anchors) + junk + "</body></html>",
    st.lists(_ANCHOR, max_size=4),
    st.sampled_from(["", "<a", "<base href='http://[::1/'>", "</a>", "<!--"]),
).map(str.encode)
_JSON_PAGE = st.builds(
    lambda files, version: json.dumps(
        {"meta": {"api-version": version}, "name": "demo", "files": files}
    ).encode(),
    st.lists(
        st.fixed_dictionaries(
            {"filename": _HREF, "url": _HREF, "hashes": _JSON},
            optional={"size": st.integers(), "yanked": _JSON, "core-metadata": _JSON},
        ),
        max_size=3,
    ),
    st.sampled_from(["1.0", "1.1", "2.0", "x"]),
)
_FILENAME = st.builds(
    lambda parts: "-".join(parts) + ".whl",
    st.lists(st.text(alphabet="abc019_.+!", min_size=0, max_size=8), min_size=1, max_size=8),
).map(str.encode)
_PROPERTY = st.builds(
    lambda a, b, c, sep: f"{a}{sep}{b}{sep}{c}",
    _ANY_TEXT,
    _ANY_TEXT,
    _ANY_TEXT,
    st.sampled_from(["::", " :: ", ":", ""]),
).map(str.encode)


def _mutated(seeds: tuple[bytes, ...]) -> st.SearchStrategy[bytes]:
    """A seed with a few byte edits (hypothesis shrinks the edit list, not the bytes)."""
    edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=8)
    return st.builds(
        lambda seed, edits, cut: _apply(seed, edits, cut),
        st.sampled_from(seeds),
        edits,
        st.integers(0, 1 << 20) | st.none(),
    )


def _apply(seed: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    data = bytearray(seed)
    for at, value in edits:
        data[at % len(data)] = value
    return bytes(data[: cut % (len(data) + 1)]) if cut is not None else bytes(data)


# ---- the targets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], None]
    strategy: Callable[[], st.SearchStrategy[bytes]]
    seeds: Callable[[], tuple[bytes, ...]]


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target(
            "filename",
            run_filename,
            lambda: _FILENAME | _mutated(FILENAME_SEEDS),
            lambda: FILENAME_SEEDS,
        ),
        Target(
            "property",
            run_property,
            lambda: _PROPERTY | _mutated(PROPERTY_SEEDS),
            lambda: PROPERTY_SEEDS,
        ),
        Target(
            "variants_json",
            run_variants_json,
            lambda: _variants_documents() | _mutated(VARIANTS_SEEDS),
            lambda: VARIANTS_SEEDS,
        ),
        Target(
            "profile",
            run_profile,
            lambda: _profiles() | _mutated(PROFILE_SEEDS),
            lambda: PROFILE_SEEDS,
        ),
        Target(
            "html_page", run_html_page, lambda: _HTML | _mutated(HTML_SEEDS), lambda: HTML_SEEDS
        ),
        Target(
            "json_page",
            run_json_page,
            lambda: _JSON_PAGE | _mutated(JSON_PAGE_SEEDS),
            lambda: JSON_PAGE_SEEDS,
        ),
        Target("wheel_zip", run_wheel, lambda: _mutated(wheel_seeds()), wheel_seeds),
        Target(
            "cpuinfo",
            run_cpuinfo,
            lambda: st.binary(max_size=300) | _mutated(CPUINFO_SEEDS),
            lambda: CPUINFO_SEEDS,
        ),
    )
}


PARSED = "parsed"
REFUSED = "refused"


def classify(target: Target, data: bytes) -> str:
    """`PARSED`, `REFUSED` (fitwheel's documented error), or what else went wrong (the
    exception's type and message: a finding)."""
    try:
        target.run(data)
    except FitwheelError:
        return REFUSED
    except Exception as exc:  # the finding itself: any other exception is a defect
        return f"{type(exc).__name__}: {exc}"[:300]
    return PARSED


def unexpected(target: Target, data: bytes) -> str | None:
    """None when `data` parses or is refused with fitwheel's documented error; else what
    went wrong."""
    outcome = classify(target, data)
    return None if outcome in (PARSED, REFUSED) else outcome


# ---- the mutation engine ------------------------------------------------------------------

_TOKENS = (
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b"::",
    b"-",
    b".whl",
    b"null",
    b"1" * 5000,
    b"[" * 1000,
    b"\xff\xfe",
    b"\x00",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"http://[::1/",
    b"<a href=",
    b'"$schema"',
    b"999999999999",
    b"\n\n",
)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """1-8 random edits: flip, overwrite, insert a token, delete, duplicate or truncate."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(out) + 1)
        choice = rng.random()
        if choice < 0.3 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif choice < 0.45 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif choice < 0.65:
            out[at:at] = rng.choice(_TOKENS)
        elif choice < 0.8:
            del out[at : at + rng.randint(1, 16)]
        elif choice < 0.95 and out:
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randint(1, 64)]
        else:
            del out[at:]
    return bytes(out[: 256 << 10])


def cleanup() -> None:
    shutil.rmtree(scratch(), ignore_errors=True)
    scratch.cache_clear()
