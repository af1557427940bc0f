"""Ranking a 1,000- and a 10,000-label release for a 50-property profile: fitwheel vs
variantlib 0.2.2.

Targets, for each size: fitwheel parsing the decoded document *and* ranking it (a fresh
`VariantsDocument` per call, as an installer ranks a release once) is at least 10x faster than
`variantlib.resolver.lib.sort_and_filter_supported_variants` on the same input, whose
descriptions are built once outside the timed calls (so variantlib is not charged for its
parse); and the 1,000-label parse + rank takes under 20 ms. Both must return the same order
before anything is timed. Run: `python benchmarks/run.py ordering` (`--labels N` for one size).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from variantlib.models.variant import VariantDescription as VLDescription
from variantlib.models.variant import VariantProperty as VLProperty
from variantlib.resolver.lib import sort_and_filter_supported_variants

from fitwheel.variants.metadata import SCHEMA_PEP825, VariantsDocument, parse_variants_document
from fitwheel.variants.ordering import rank
from fitwheel.variants.properties import VariantDescription, VariantProperty
from fitwheel.variants.support import SupportedProperties

SIZES = (1_000, 10_000)
SPEEDUP_TARGET = 10.0
MILLISECONDS_TARGET = 20.0
"""For the 1,000-label release."""
ROUNDS = 15
FITWHEEL_CALLS_PER_ROUND = 5
SEED = 825

# What a GPU + x86-64 machine supports, best first: 50 properties in 6 namespaces.
PROFILE: dict[str, dict[str, list[str]]] = {
    "nvidia": {
        "cuda_version_lower_bound": [
            *("12.8", "12.6", "12.5", "12.4", "12.3", "12.2", "12.1", "12.0"),
            *("11.8", "11.7", "11.6", "11.5", "11.4", "11.3", "11.2", "11.1", "11.0"),
        ],
        "sm_arch": [
            *("86_real", "80_real", "86_virtual", "80_virtual", "75_virtual", "70_virtual"),
            *("61_virtual", "60_virtual", "53_virtual", "52_virtual", "50_virtual"),
        ],
    },
    "x86_64": {"level": ["v3", "v2", "v1"], "avx2": ["on"], "fma": ["on"], "bmi2": ["on"]},
    "blas_lapack": {"library": ["mkl", "openblas", "blis"]},
    "cpython": {"abi": ["cp313", "cp312", "cp311", "cp310", "abi3"]},
    "intel": {"device_ip": ["12.55.8", "12.10.0", "12.0.0"], "level_zero": ["1.3", "1.2"]},
    "openmp": {"runtime": ["gnu", "llvm", "intel"]},
}
NAMESPACES = ["nvidia", "intel", "x86_64", "blas_lapack", "cpython", "openmp", "amd"]
# Values a release also builds for that this machine cannot use.
UNSUPPORTED: dict[tuple[str, str], list[str]] = {
    ("nvidia", "cuda_version_lower_bound"): ["13.0"],
    ("nvidia", "sm_arch"): ["90_real", "100_real", "120_real"],
    ("x86_64", "level"): ["v4"],
    ("amd", "gfx_arch"): ["gfx90a", "gfx942", "gfx1100"],
}


def make_release(rng: random.Random, labels: int) -> dict[str, dict[str, dict[str, list[str]]]]:
    """`labels` labelled variants of 1-6 properties, most of them compatible, plus "null"."""
    features = [(ns, f, list(values)) for ns, t in PROFILE.items() for f, values in t.items()]
    for (ns, f), values in UNSUPPORTED.items():
        for entry in features:
            if entry[:2] == (ns, f):
                entry[2].extend(values)
                break
        else:
            features.append((ns, f, list(values)))
    variants: dict[str, dict[str, dict[str, list[str]]]] = {"null": {}}
    seen: set[frozenset[VariantProperty]] = set()
    while len(variants) < labels + 1:
        chosen = rng.sample(features, rng.randint(1, 6))
        props = set()
        for ns, feature, values in chosen:
            # Mostly one value; sometimes a multi-value feature (e.g. a fat sm_arch list).
            for value in rng.sample(values, 1 if rng.random() < 0.7 else min(3, len(values))):
                props.add(VariantProperty(ns, feature, value))
        key = frozenset(props)
        if key in seen:
            continue
        seen.add(key)
        description = VariantDescription(key)
        variants[description.hash_label()] = description.to_mapping()
    return variants


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000.0


def measure(labels: int) -> bool:
    rng = random.Random(SEED)
    release = make_release(rng, labels)
    os.environ.pop("VARIANT_ABI_DEPENDENCY", None)

    # fitwheel input: the decoded document (as `json.loads` gives it) and the profile.
    def parse() -> VariantsDocument:
        return parse_variants_document(
            {
                "$schema": SCHEMA_PEP825,
                "default-priorities": {"namespace": NAMESPACES},
                "variants": release,
            },
            where="benchmark release",
        )

    supported = SupportedProperties.from_mapping(PROFILE)
    assert len(supported) == 50, len(supported)

    # variantlib input, converted once (and, for the second ratio, inside the timed call).
    def vl_parse() -> list[VLDescription]:
        return [
            VLDescription(
                [
                    VLProperty(ns, f, v)
                    for ns, table in props.items()
                    for f, values in table.items()
                    for v in values
                ],
                label=label,
            )
            for label, props in release.items()
        ]

    vl_descriptions = vl_parse()
    vl_supported = [VLProperty(p.namespace, p.feature, p.value) for p in supported.properties()]

    def run_fitwheel() -> tuple[str, ...]:
        return rank(parse(), supported).ranked

    def run_variantlib() -> list[str]:
        return [
            d.label
            for d in sort_and_filter_supported_variants(
                vl_descriptions, vl_supported, list(NAMESPACES)
            )
        ]

    ours, theirs = run_fitwheel(), run_variantlib()
    if list(ours) != theirs:
        print("FAIL: fitwheel and variantlib disagree on the order", file=sys.stderr)
        return False
    compatible = len(ours)

    rounds = ROUNDS if labels <= 1_000 else max(3, ROUNDS // 3)

    def run_variantlib_with_parse() -> list[str]:
        descriptions = vl_parse()
        return [
            d.label
            for d in sort_and_filter_supported_variants(
                descriptions, vl_supported, list(NAMESPACES)
            )
        ]

    fitwheel_ms: list[float] = []
    variantlib_ms: list[float] = []
    variantlib_parse_ms: list[float] = []
    for _ in range(rounds):
        variantlib_ms.append(timed(run_variantlib))
        variantlib_parse_ms.append(timed(run_variantlib_with_parse))
        fitwheel_ms.extend(timed(run_fitwheel) for _ in range(FITWHEEL_CALLS_PER_ROUND))

    fw_min, fw_median = min(fitwheel_ms), statistics.median(fitwheel_ms)
    vl_min, vl_median = min(variantlib_ms), statistics.median(variantlib_ms)
    ratio = vl_median / fw_median
    print(
        f"release: {len(release)} labels ({compatible} compatible), "
        f"profile: {len(supported)} properties, {len(NAMESPACES)} namespaces"
    )
    print(
        f"fitwheel parse + rank: min {fw_min:8.2f} ms  median {fw_median:8.2f} ms  "
        f"(n={len(fitwheel_ms)})"
    )
    print(
        f"variantlib sort:       min {vl_min:8.2f} ms  median {vl_median:8.2f} ms  "
        f"(n={len(variantlib_ms)})"
    )
    vlp_median = statistics.median(variantlib_parse_ms)
    print(
        f"variantlib parse + sort: min {min(variantlib_parse_ms):6.2f} ms  median "
        f"{vlp_median:8.2f} ms  (n={len(variantlib_parse_ms)})"
    )
    print(f"ratio (median variantlib sort / median fitwheel parse + rank): {ratio:.1f}x")
    print(f"ratio (min variantlib sort / min fitwheel parse + rank):       {vl_min / fw_min:.1f}x")
    print(
        "ratio (median variantlib parse + sort / median fitwheel parse + rank): "
        f"{vlp_median / fw_median:.1f}x (both parse; not the target)"
    )
    fast_enough = ratio >= SPEEDUP_TARGET
    quick_enough = labels > 1_000 or fw_median < MILLISECONDS_TARGET
    print(f"{'PASS' if fast_enough else 'FAIL'}: >= {SPEEDUP_TARGET:.0f}x faster than variantlib")
    if labels <= 1_000:
        print(f"{'PASS' if quick_enough else 'FAIL'}: < {MILLISECONDS_TARGET:.0f} ms (median)")
    return fast_enough and quick_enough


def main(argv: list[str]) -> int:
    sizes = [int(argv[argv.index("--labels") + 1])] if "--labels" in argv else list(SIZES)
    results = [measure(labels) for labels in sizes]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
