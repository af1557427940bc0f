"""The `[variant]` table of pyproject.toml: both published shapes, the build plan made from it,
and `fitwheel variants check pyproject.toml`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from variantlib.pyproject_toml import VariantPyProjectToml

from fitwheel.errors import InvalidVariantTable, UnknownBuildProperty
from fitwheel.publish.check import check_variant_table
from fitwheel.publish.plan import plan_from_properties, plan_from_table
from fitwheel.publish.table import (
    TableShape,
    VariantTable,
    load_optional_variant_table,
    load_variant_table,
    parse_variant_table,
)
from fitwheel.variants.metadata import ProviderInfo
from fitwheel.variants.properties import VariantDescription, parse_property
from helpers.cli import fitwheel

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# The shape variantlib 0.2.2 reads (its own provider rules: one of requires/static-properties).
PROVIDERS_SHAPE = """
[variant.default-priorities]
namespace = ["x86_64", "blas"]

[variant.providers.x86_64]
requires = ["x86-64-variant-provider"]
plugin-api = "x86_64_variant_provider"

[variant.providers.blas]
static-properties = { library = ["openblas", "mkl"], threads = ["omp"] }
feature-order = ["library", "threads"]

[variant.variants]
v3_openblas = { x86_64 = { level = ["v3"] }, blas = { library = ["openblas"] } }
v2_mkl = { x86_64 = { level = ["v2"] }, blas = { library = ["mkl"] } }
null = {}
"""

# PEP 817's example shape: feature/property priorities, enable-if, top-level static-properties.
PEP817_SHAPE = """
[variant.default-priorities]
namespace = ["x86_64", "aarch64", "blas_lapack"]
feature.aarch64 = ["version"]
feature.x86_64 = ["level"]
property.x86_64.level = ["v3", "v2", "v1"]

[variant.providers.aarch64]
requires = ["provider-variant-aarch64 >=0.0.1; python_version >= '3.12'"]
enable-if = "platform_machine == 'aarch64' or 'arm' in platform_machine"
plugin-api = "provider_variant_aarch64.plugin:AArch64Plugin"

[variant.providers.x86_64]
requires = ["provider-variant-x86-64 >=0.0.1"]
enable-if = "platform_machine == 'x86_64' or platform_machine == 'AMD64'"
plugin-api = "provider_variant_x86_64.plugin:X8664Plugin"

[variant.static-properties]
blas_lapack.provider = ["openblas", "mkl"]

[variant.variants]
x8664v3_openblas = { x86_64 = { level = ["v3"] }, blas_lapack = { provider = ["openblas"] } }
"""


def table(text: str, where: str = "pyproject.toml") -> VariantTable:
    return parse_variant_table(tomllib.loads(text), where=where)


def test_providers_shape_reads_as_variantlib_reads_it() -> None:
    parsed = parse_variant_table(tomllib.loads(PROVIDERS_SHAPE), where="p")
    theirs = VariantPyProjectToml(tomllib.loads(PROVIDERS_SHAPE))
    assert parsed.shape is TableShape.PROVIDERS
    document = parsed.document
    assert list(document.namespace_priorities) == theirs.namespace_priorities
    assert list(parsed.labels) == list(theirs.variants)
    for label, description in theirs.variants.items():
        ours = {str(p) for p in document.variants[label].properties}
        assert ours == {p.to_str() for p in description.properties}, label
    static = {f: list(v) for f, v in document.static_properties["blas"].items()}
    assert static == theirs.providers["blas"].static_properties
    assert document.providers["x86_64"].requires == tuple(theirs.providers["x86_64"].requires)


def test_pep817_shape_keeps_its_priorities_and_static_properties() -> None:
    parsed = parse_variant_table(tomllib.loads(PEP817_SHAPE), where="p")
    assert parsed.shape is TableShape.PEP817
    document = parsed.document
    assert document.feature_priorities["x86_64"] == ("level",)
    assert document.value_priorities["x86_64"]["level"] == ("v3", "v2", "v1")
    assert document.static_properties["blas_lapack"]["provider"] == ("openblas", "mkl")
    assert document.providers["aarch64"].enable_if is not None


def test_early_variantlib_string_lists_for_pep817_priorities() -> None:
    text = (
        '[variant.default-priorities]\nnamespace = ["x86_64"]\n'
        'feature = ["x86_64 :: level"]\nproperty = ["x86_64 :: level :: v3"]\n'
        '[variant.providers.x86_64]\nrequires = ["provider-variant-x86-64"]\n'
        'enable-if = "True"\n'
    )
    document = parse_variant_table(tomllib.loads(text), where="p").document
    assert document.feature_priorities["x86_64"] == ("level",)
    assert document.value_priorities["x86_64"]["level"] == ("v3",)


def test_pep817_plan_writes_the_provider_identity_installers_run() -> None:
    plan = plan_from_table(parse_variant_table(tomllib.loads(PEP817_SHAPE), where="p"))
    assert plan.providers is not None
    assert plan.providers["x86_64"] == ProviderInfo(
        requires=("x86-64-variant-provider",), plugin_api="x86_64_variant_provider"
    )
    (build,) = plan.builds
    assert build.flags.c == ("-march=x86-64-v3",)  # blas_lapack is static: no flags
    released = plan.release_document()
    assert released.static_properties["blas_lapack"]["provider"] == ("openblas", "mkl")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            '[variant.default-priorities]\nnamespace = ["x86_64", "mystery"]\n'
            '[variant.variants]\nodd = { mystery = { kind = ["a"] } }\n',
            "variant 'odd' uses namespace 'mystery', which no installer knows",
            id="unknown-namespace",
        ),
        pytest.param(
            '[variant.default-priorities]\nnamespace = ["x86_64"]\n'
            '[variant.variants]\nodd = { nvidia = { sm_arch = ["86_real"] } }\n',
            "variant 'odd' uses namespace(s) nvidia not listed in default-priorities.namespace",
            id="namespace-not-in-priorities",
        ),
        pytest.param(
            '[variant.default-priorities]\nnamespace = ["x86_64"]\n[variant.variants]\n'
            'fast = { x86_64 = { level = ["v3"] } }\nv3 = { x86_64 = { level = ["v3"] } }\n',
            "variants 'fast' and 'v3' declare the same properties",
            id="label-collision",
        ),
        pytest.param(
            '[variant.default-priorities]\nnamespace = ["x86_64"]\n[variant.variants]\n'
            'Fast = { x86_64 = { level = ["v3"] } }\n',
            "invalid variant label 'Fast'",
            id="bad-label",
        ),
        pytest.param(
            '[variant.default-priorities]\nnamespace = ["x86_64"]\n[variant.variants]\n'
            'null = { x86_64 = { level = ["v3"] } }\n',
            "label 'null' is reserved",
            id="null-with-properties",
        ),
        pytest.param('[variant]\nschema = "x"\n', "unknown key 'schema'", id="unknown-key"),
        pytest.param(
            '[variant.default-priorities]\nnamespace = ["x86_64"]\nfeature.x86_64 = ["level"]\n'
            '[variant.providers.blas]\nstatic-properties = { library = ["mkl"] }\n',
            "mixes the PEP 817 shape (default-priorities.feature) with the providers-draft",
            id="mixed-shapes",
        ),
        pytest.param("[project]\nname = 'x'\n", "no [variant] table", id="no-table"),
    ],
)
def test_bad_tables_are_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(InvalidVariantTable) as caught:
        table(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_plan_selects_labels_and_refuses_unknown_ones() -> None:
    parsed = parse_variant_table(tomllib.loads(PROVIDERS_SHAPE), where="p")
    assert [b.label for b in plan_from_table(parsed).builds] == ["v3_openblas", "v2_mkl", "null"]
    chosen = plan_from_table(parsed, labels=["v2_mkl"], null=True)
    assert [b.label for b in chosen.builds] == ["v2_mkl", "null"]
    with pytest.raises(InvalidVariantTable, match="no variant 'v4' in"):
        plan_from_table(parsed, labels=["v4"])


def test_properties_without_flags_name_their_variant() -> None:
    text = (
        '[variant.default-priorities]\nnamespace = ["x86_64"]\n[variant.variants]\n'
        'future = { x86_64 = { level = ["v9"] } }\n'
    )
    with pytest.raises(UnknownBuildProperty, match=r"^variant 'future': cannot map"):
        plan_from_table(table(text))


def test_a_third_party_provider_is_kept_and_gets_no_flags() -> None:
    text = (
        '[variant.default-priorities]\nnamespace = ["my_hw"]\n'
        '[variant.providers.my_hw]\nrequires = ["my-hw-provider>=1"]\n'
        'plugin-api = "my_hw_provider:Plugin"\n'
        '[variant.variants]\nfast = { my_hw = { capability = ["advanced"] } }\n'
    )
    plan = plan_from_table(table(text))
    assert plan.builds[0].flags.c == ()
    assert plan.providers is not None
    assert plan.providers["my_hw"].requires == ("my-hw-provider>=1",)
    build_time = text.replace('requires = ["my-hw', 'build-requires = ["my-hw')
    with pytest.raises(InvalidVariantTable, match="build-requires"):
        plan_from_table(table(build_time))
    pep817_build_time = text.replace("plugin-api", "install-time = false\nplugin-api")
    with pytest.raises(InvalidVariantTable, match="install-time = false"):
        plan_from_table(table(pep817_build_time))


def test_table_less_plan() -> None:
    plan = plan_from_properties([parse_property("x86_64 :: level :: v3")])
    (build,) = plan.builds
    assert build.label == VariantDescription.from_properties(["x86_64 :: level :: v3"]).hash_label()
    with pytest.raises(InvalidVariantTable, match="--namespace-priority"):
        plan_from_properties([], null=True)
    null = plan_from_properties([], null=True, namespace_priorities=["x86_64"])
    assert null.builds[0].is_null and null.namespace_priorities == ("x86_64",)


def test_check_pyproject_reports_what_the_build_would_publish(tmp_path: Path) -> None:
    good = tmp_path / "good" / "pyproject.toml"
    good.parent.mkdir()
    good.write_text(PROVIDERS_SHAPE)
    result = fitwheel("variants", "check", good, "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == {"ok": True, "findings": []}

    no_null = PROVIDERS_SHAPE.replace("null = {}\n", "")
    report = check_variant_table(parse_variant_table(tomllib.loads(no_null), where="p"), where="p")
    assert not report.failed
    assert [f.message.split(":")[0] for f in report.warnings] == ["no null variant"]

    bad = tmp_path / "bad" / "pyproject.toml"
    bad.parent.mkdir()
    bad.write_text(PROVIDERS_SHAPE.replace('level = ["v2"]', 'level = ["v9"]'))
    result = fitwheel("variants", "check", bad)
    assert result.returncode == 1
    assert "variant 'v2_mkl': cannot map 'x86_64 :: level :: v9'" in result.stdout

    collide = tmp_path / "collide" / "pyproject.toml"
    collide.parent.mkdir()
    collide.write_text(
        PROVIDERS_SHAPE
        + 'again = { x86_64 = { level = ["v3"] }, blas = { library = ["openblas"] } }\n'
    )
    result = fitwheel("variants", "check", collide)
    assert result.returncode == 1
    assert "variants 'v3_openblas' and 'again' declare the same properties" in result.stdout


def test_load_reads_a_project_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PROVIDERS_SHAPE)
    assert load_variant_table(tmp_path).labels == ("v3_openblas", "v2_mkl", "null")
    (tmp_path / "pyproject.toml").write_text("[variant\n")
    with pytest.raises(InvalidVariantTable, match="not valid TOML"):
        load_variant_table(tmp_path)


def test_the_cuda_example_plans_its_gpu_flags() -> None:
    """Documented only (no nvcc here): the table reads, checks, and gives each label its flags."""
    table = load_variant_table(EXAMPLES / "variant-cuda")
    plan = plan_from_table(table)
    flags = {build.label: build.flags for build in plan.builds}
    assert flags["cu126"].cuda[:2] == ("-gencode", "arch=compute_60,code=sm_60")
    assert "arch=compute_120,code=sm_120" in flags["cu128"].cuda
    assert flags["null"].cuda == ()
    check = fitwheel("variants", "check", EXAMPLES / "variant-cuda" / "pyproject.toml")
    assert check.returncode == 0, check.stdout


def test_a_command_line_variant_carries_the_tables_release_metadata() -> None:
    parsed = parse_variant_table(tomllib.loads(PROVIDERS_SHAPE), where="p")
    plan = plan_from_properties(
        [parse_property("x86_64 :: level :: v4"), parse_property("blas :: library :: mkl")],
        label="v4_mkl",
        table=parsed,
    )
    (build,) = plan.builds
    assert build.flags.c == ("-march=x86-64-v4",)  # blas is static: no flags, no error
    assert plan.namespace_priorities == ("x86_64", "blas")
    released = plan.release_document()
    assert released.static_properties["blas"]["library"] == ("openblas", "mkl")
    assert released.providers["x86_64"].requires == ("x86-64-variant-provider",)
    null = plan_from_properties([], null=True, table=parsed)  # the table names the namespaces
    assert null.namespace_priorities == ("x86_64", "blas")
    with pytest.raises(UnknownBuildProperty, match="blas"):
        plan_from_properties([parse_property("blas :: library :: mkl")])  # no table: no idea


def test_load_optional_variant_table(tmp_path: Path) -> None:
    assert load_optional_variant_table(tmp_path) is None  # no pyproject.toml
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert load_optional_variant_table(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text("[variant]\nbogus = 1\n")
    with pytest.raises(InvalidVariantTable, match="unknown key 'bogus'"):
        load_optional_variant_table(tmp_path)


def test_a_variant_whose_variant_json_cannot_be_written_is_found_before_building() -> None:
    text = PROVIDERS_SHAPE.replace('{ library = ["mkl"] }', '{ library = ["atlas"] }')
    plan = plan_from_table(parse_variant_table(tomllib.loads(text), where="p"))
    with pytest.raises(InvalidVariantTable, match=r"^variant 'v2_mkl': property blas :: library"):
        plan.release_document()
