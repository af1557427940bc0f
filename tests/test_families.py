"""Index families: member builds as variants, chosen by the PEP 825 ranking (pure; no network).

The pages here are built in memory in the shape of PyTorch's indexes (member pages with
`+cu126` local versions and `%2B` in absolute URLs); tests/test_families_e2e.py serves real
wheels in that shape through nginx and installs them with pip and uv.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pytest

from fitwheel.cli import build_parser, main
from fitwheel.errors import InvalidFamily
from fitwheel.families import (
    Family,
    builtin_family,
    families_from,
    family_page,
    parse_family_spec,
)
from fitwheel.families.naming import cuda_version, rocm_version
from fitwheel.families.view import MemberPages
from fitwheel.index.model import IndexFile, ProjectPage
from fitwheel.installers import pip, uv
from fitwheel.installers.families import default_families
from fitwheel.profile import profile_from_document
from fitwheel.providers import BUILTIN_NAMESPACES, provide_all
from fitwheel.select import Target, choose_in_family, follow_anchor, resolve_in_family
from helpers.cli import fitwheel

BASE = "http://127.0.0.1:9/whl/"
CP311 = {
    "implementation": "cpython",
    "python_version": "3.11.9",
    "abis": ["cp311", "abi3", "none"],
    "platforms": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "linux_x86_64"],
}
TAGS = ("cp311-cp311-manylinux_2_28_x86_64", "cp312-cp312-manylinux_2_28_x86_64",
        "cp311-cp311-win_amd64", "cp311-cp311-manylinux_2_28_aarch64")  # fmt: skip

# Which member each torch release is published on (torch 2.9.0 as PyTorch published it).
TORCH = {
    "2.9.0": ("cpu", "cu126", "cu128", "cu130", "rocm6.3", "rocm6.4", "xpu"),
    "2.8.0": ("cpu", "cu126", "cu128", "cu129", "rocm6.3", "rocm6.4", "xpu"),
}
TORCHVISION = {"0.24.0": TORCH["2.9.0"], "0.23.0": TORCH["2.8.0"]}


def machine(**facts: object) -> Target:
    profile = profile_from_document(
        {"interpreter": CP311, "variants": provide_all(facts)},
        where="test machine",
        provided_namespaces=frozenset(BUILTIN_NAMESPACES),
    )
    return Target.of(profile)


def nvidia(driver: str, capability: str) -> Target:
    return machine(nvidia={"cuda_driver_version": driver, "compute_capabilities": [capability]})


def member_pages(
    family: Family,
    project: str,
    releases: Mapping[str, tuple[str, ...]],
    tags: tuple[str, ...] = TAGS,
) -> dict[str, ProjectPage | str]:
    pages: dict[str, ProjectPage | str] = {}
    for member in family.members:
        files = []
        for version, members in releases.items():
            if member.name not in members:
                continue
            for tag in tags:
                name = f"{project.replace('-', '_')}-{version}+{member.name}-{tag}.whl"
                url = f"{BASE}{member.name}/{name.replace('+', '%2B')}"
                files.append(IndexFile(name, url, MappingProxyType({"sha256": f"{len(url):064x}"})))
        pages[member.name] = ProjectPage(project, f"{BASE}{member.name}/{project}/", tuple(files))
    return pages


@pytest.fixture(scope="module")
def pytorch() -> Family:
    return builtin_family("pytorch", BASE)


def test_member_names_give_cuda_and_rocm_versions() -> None:
    assert cuda_version("cu126") == (12, 6)
    assert cuda_version("cu118") == (11, 8)
    assert cuda_version("cu132") == (13, 2)
    assert cuda_version("cpu") is None
    assert rocm_version("rocm6.4") == (6, 4)
    assert rocm_version("rocm6.2.4") == (6, 2)
    assert rocm_version("xpu") is None


def test_builtin_members_rank_newest_build_first(pytorch: Family) -> None:
    assert [m.name for m in pytorch.members] == [
        "cu132", "cu130", "cu129", "cu128", "cu126", "rocm7.1", "rocm7.0", "rocm6.4", "rocm6.3",
        "xpu", "cpu",
    ]  # fmt: skip
    assert pytorch.member("cu126") is not None
    assert pytorch.member("cu126").url == BASE + "cu126/"  # type: ignore[union-attr]
    assert {"torch", "torchvision", "torchaudio", "triton", "pytorch-triton-rocm"} <= (
        pytorch.projects
    )


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        pytest.param(nvidia("12.8", "6.1"), "cu126", id="GTX 1080 Ti, driver 12.8"),
        pytest.param(nvidia("12.8", "8.6"), "cu128", id="RTX A6000, driver 12.8"),
        pytest.param(nvidia("13.0", "9.0"), "cu130", id="H100, driver 13.0"),
        pytest.param(nvidia("13.0", "7.0"), "cu128", id="V100, driver 13.0"),
        pytest.param(nvidia("12.8", "12.0"), "cu128", id="RTX 5090, driver 12.8"),
        pytest.param(nvidia("12.4", "8.6"), "cpu", id="A6000, driver 12.4: no CUDA build"),
        pytest.param(machine(), "cpu", id="no GPU"),
        pytest.param(machine(amd={"gfx_archs": ["gfx942"]}), "rocm6.4", id="MI300"),
        pytest.param(machine(amd={"gfx_archs": ["gfx803"]}), "cpu", id="old AMD GPU"),
        pytest.param(machine(intel={"device_ips": ["20.1.0"]}), "xpu", id="Arc B580"),
    ],
)
def test_each_machine_gets_the_member_that_fits(
    pytorch: Family, profile: Target, expected: str
) -> None:
    page = family_page(pytorch, "torch", member_pages(pytorch, "torch", TORCH))
    latest = choose_in_family(page, profile)[0]
    assert latest.version == "2.9.0"
    assert latest.label == expected
    assert latest.chosen is not None
    assert latest.chosen.filename == f"torch-2.9.0+{expected}-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert (
        latest.chosen.url
        == f"{BASE}{expected}/torch-2.9.0%2B{expected}-cp311-cp311-manylinux_2_28_x86_64.whl"
    )


def test_the_gtx_1080_ti_is_told_why_each_other_member_lost(pytorch: Family) -> None:
    page = family_page(pytorch, "torch", member_pages(pytorch, "torch", TORCH))
    choice = choose_in_family(page, nvidia("12.8", "6.1"))[0]
    reasons = {r.file.filename: r.reason for r in choice.rejected}
    linux = "cp311-cp311-manylinux_2_28_x86_64.whl"
    assert reasons[f"torch-2.9.0+cu128-{linux}"] == (
        "cu128 has no kernels for sm 6.1 (built for 7.0-12.0)"
    )
    assert reasons[f"torch-2.9.0+cu130-{linux}"] == (
        "cu130 needs a driver for CUDA 13.0 or newer; the target's driver supports CUDA 12.8"
    )
    assert (
        reasons[f"torch-2.9.0+rocm6.4-{linux}"] == "rocm6.4 needs an AMD GPU; the target has none"
    )
    assert reasons[f"torch-2.9.0+cpu-{linux}"] == "cpu: variant 'cpu' ranks #2, below 'cu126'"
    assert (
        "do not fit the target interpreter"
        in reasons["torch-2.9.0+cu126-cp311-cp311-win_amd64.whl"]
    )
    assert "CUDA 12.6, sm 5.0-9.0" in choice.reason
    absent = {a.member: a.reason for a in page.absent["2.9.0"]}
    assert absent == {m: f"{m} has no torch 2.9.0 build"
                      for m in ("cu132", "cu129", "rocm7.1", "rocm7.0")}  # fmt: skip


def test_a_member_page_that_is_missing_is_a_reason_not_a_wrong_build(pytorch: Family) -> None:
    pages: dict[str, ProjectPage | str] = member_pages(pytorch, "torch", TORCH)
    pages["cu128"] = "cu128 has no page for torch: http://…/cu128/torch/: not found (HTTP 404)"
    page = family_page(pytorch, "torch", pages)
    latest = choose_in_family(page, nvidia("12.8", "8.6"))[0]
    assert latest.label == "cu126"  # still a build that runs on the A6000, and it says why
    absent = {a.member: a.reason for a in page.absent["2.9.0"]}
    assert "HTTP 404" in absent["cu128"]
    # The 1080 Ti still never gets a build without sm 6.x kernels.
    assert choose_in_family(page, nvidia("12.8", "6.1"))[0].label == "cu126"


def test_a_release_missing_from_the_table_uses_the_closest_and_says_so(pytorch: Family) -> None:
    releases = {"2.15.0": ("cpu", "cu126", "cu130", "cu132", "rocm7.1")}
    page = family_page(pytorch, "torch", member_pages(pytorch, "torch", releases))
    choice = choose_in_family(page, nvidia("13.2", "6.1"))[0]
    assert choice.label == "cu126"
    assert "torch 2.15 is not in the build table" in choice.reason
    assert "torch 2.14" in choice.reason
    # No release of the table after 2.10 lists ROCm builds: the closest one that does is used.
    mi300 = choose_in_family(page, machine(amd={"gfx_archs": ["gfx942"]}))[0]
    assert mi300.label == "rocm7.1"
    assert "torch 2.10, the closest listed" in mi300.reason


def test_a_companion_past_the_pairing_table_follows_its_step(pytorch: Family) -> None:
    members = ("cpu", "cu126", "cu132")
    torch = family_page(pytorch, "torch", member_pages(pytorch, "torch", {"2.15.0": members}))
    vision = family_page(
        pytorch, "torchvision", member_pages(pytorch, "torchvision", {"0.30.0": members})
    )
    assert vision.anchor_release("0.30.0") == (2, 15)
    h100 = nvidia("13.2", "9.0")
    choice = choose_in_family(follow_anchor(vision, torch, h100), h100)[0]
    assert choice.label == "cu132"
    assert "torchvision 0.30 is past the pairing table; paired with 2.15" in choice.reason


def test_a_new_cuda_member_needs_no_code(tmp_path: Path) -> None:
    family_file = tmp_path / "pytorch-next.toml"
    family_file.write_text('extends = "pytorch"\nmembers = ["cu134"]\n')
    family = parse_family_spec(f"{family_file}={BASE}")
    assert [m.name for m in family.members][:2] == ["cu134", "cu132"]
    releases = {"2.9.0": ("cpu", "cu126", "cu128", "cu130", "cu134")}
    page = family_page(family, "torch", member_pages(family, "torch", releases))
    new_driver = choose_in_family(page, nvidia("13.4", "9.0"))[0]
    assert new_driver.label == "cu134"
    assert "CUDA 13.4 is not in the build table" in new_driver.reason
    assert "CUDA 13.0" in new_driver.reason
    old_driver = choose_in_family(page, nvidia("13.0", "9.0"))[0]
    assert old_driver.label == "cu130"
    assert any(
        r.reason.startswith("cu134 needs a driver for CUDA 13.4") for r in old_driver.rejected
    )


def test_companions_follow_the_member_torch_was_given(pytorch: Family) -> None:
    torch = family_page(pytorch, "torch", member_pages(pytorch, "torch", TORCH))
    # torchvision's cu128 build lacks the target's interpreter: its best *own* choice would
    # be cu126, which would mix backends with torch's cu128.
    pages = member_pages(pytorch, "torchvision", TORCHVISION)
    cu128 = pages["cu128"]
    assert isinstance(cu128, ProjectPage)
    pages["cu128"] = ProjectPage(
        cu128.name,
        cu128.url,
        tuple(f for f in cu128.files if "cp311-cp311-manylinux" not in f.filename),
    )
    vision = family_page(pytorch, "torchvision", pages)
    a6000 = nvidia("12.8", "8.6")
    assert choose_in_family(vision, a6000)[0].label == "cu126"
    pinned = follow_anchor(vision, torch, a6000)
    latest = choose_in_family(pinned, a6000)[0]
    assert latest.chosen is None
    absent = [(a.member, a.reason) for a in pinned.absent["0.24.0"]]
    assert ("cu126", "cu126: torch 2.9 comes from cu128; one backend per environment") in absent
    # What is left is torch's member, whose builds do not fit this interpreter: nothing.
    assert {r.reason.partition(":")[0] for r in latest.rejected} == {"cu128"}
    assert all("do not fit the target interpreter" in r.reason for r in latest.rejected)
    gtx = nvidia("12.8", "6.1")
    assert choose_in_family(follow_anchor(vision, torch, gtx), gtx)[0].label == "cu126"


def test_a_resolved_page_lists_the_real_file(pytorch: Family) -> None:
    page = family_page(pytorch, "torch", member_pages(pytorch, "torch", TORCH))
    resolved = resolve_in_family(page, nvidia("12.8", "6.1"))
    names = sorted(f.filename for f in resolved.files)
    assert names == [
        "torch-2.8.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.9.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl",
    ]
    real = {f.url: f for p in member_pages(pytorch, "torch", TORCH).values()
            if isinstance(p, ProjectPage) for f in p.files}  # fmt: skip
    for file in resolved.files:
        assert real[file.url] == file


def test_plain_files_are_listed_once(pytorch: Family) -> None:
    triton = IndexFile("triton-3.5.0-cp311-cp311-manylinux_2_28_x86_64.whl", BASE + "triton.whl")
    pages: MemberPages = {
        m: ProjectPage("triton", f"{BASE}{m}/triton/", (triton,)) for m in ("cu126", "cu128")
    }
    page = family_page(pytorch, "triton", pages)
    assert page.page.files == (triton,)
    assert resolve_in_family(page, machine()).files == (triton,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nurl = "http://h/"\nprojects = ["p"]\nmembers = ["cu126"]\n', "no build table"),
        ('name = "x"\nurl = "http://h/"\nprojects = ["p"]\n[[members]]\nname = "Bad-Name"\n'
         'properties = []\n', "must match"),
        ('name = "x"\nurl = "http://h/"\nprojects = ["p"]\n[[members]]\nname = "gpu"\n'
         'properties = ["nvidia::sm_arch"]\n', "invalid variant property"),
        ('name = "x"\nprojects = ["p"]\nmembers = []\n', "needs a name and a url"),
    ],
)  # fmt: skip
def test_malformed_family_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "family.toml"
    path.write_text(text)
    with pytest.raises(InvalidFamily, match=message):
        parse_family_spec(str(path))


def test_unknown_family_names_are_refused() -> None:
    with pytest.raises(InvalidFamily, match="neither a built-in family"):
        parse_family_spec("tensorflow")
    with pytest.raises(InvalidFamily, match="URL after '=' is empty"):
        parse_family_spec("pytorch=")


def test_declared_members_rank_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "llama.toml"
    path.write_text(
        'name = "llama"\nurl = "http://h/whl/"\nprojects = ["llama-cpp-python"]\n'
        '[[members]]\nname = "cu125"\nproperties = ["nvidia :: cuda_version_lower_bound :: 12.5"]\n'
        '[[members]]\nname = "cu124"\nproperties = ["nvidia :: cuda_version_lower_bound :: 12.4"]\n'
        '[[members]]\nname = "cpu"\nurl = "{base}cpu/"\n'
        "properties = []\n"
    )
    family = parse_family_spec(str(path))
    releases = {"0.3.16": ("cu124", "cu125", "cpu")}
    page = family_page(
        family, "llama-cpp-python", member_pages(family, "llama-cpp-python", releases)
    )
    assert choose_in_family(page, nvidia("12.4", "8.6"))[0].label == "cu124"
    assert choose_in_family(page, nvidia("12.8", "8.6"))[0].label == "cu125"
    assert choose_in_family(page, machine())[0].label == "cpu"


def test_the_wrappers_use_pytorch_only_in_front_of_pypi_alone() -> None:
    assert default_families(["https://pypi.org/simple/"]) == ("pytorch",)
    assert default_families(["https://pypi.org/simple"]) == ("pytorch",)
    assert default_families(["https://mirror.example/simple/"]) == ()
    assert default_families(["https://mirror.example/simple/", "https://pypi.org/simple/"]) == ()
    # What the wrappers pass in: the indexes pip and uv would read with no configuration.
    env = {"PIP_CONFIG_FILE": "/dev/null", "HOME": "/nonexistent", "UV_NO_CONFIG": "1"}
    assert default_families(pip.plan(["install", "torch"], env).upstreams) == ("pytorch",)
    assert default_families(uv.plan(["pip", "install", "torch"], env).upstreams) == ("pytorch",)
    assert (
        default_families(pip.plan(["install", "-i", "http://m/simple/", "torch"], env).upstreams)
        == ()
    )


@pytest.mark.parametrize(
    "command",
    [
        ["explain", "torch", "--index-url", "http://u/"],
        ["serve", "--upstream", "http://u/"],
        ["index", "build", "src", "out"],
    ],
)
def test_commands_take_repeated_index_families(command: list[str]) -> None:
    args = build_parser().parse_args([*command, "--index-family", "pytorch",
                                      "--index-family", "f.toml=http://h/"])  # fmt: skip
    assert args.index_family == ["pytorch", "f.toml=http://h/"]


def test_none_turns_the_default_family_off() -> None:
    assert families_from([], {}, default=("pytorch",))[0].name == "pytorch"
    assert families_from(["none"], {}, default=("pytorch",)) == ()
    assert families_from([], {"FITWHEEL_INDEX_FAMILIES": "none"}, default=("pytorch",)) == ()
    (family,) = families_from([], {"FITWHEEL_INDEX_FAMILIES": f"pytorch={BASE}"})
    assert family.url == BASE


def test_the_documented_family_files_load(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "families.md").read_text()
    blocks = [b.split("```", 1)[0] for b in docs.split("```toml\n")[1:]]
    examples = [b for b in blocks if 'name = "cpu"' in b]
    assert len(examples) == 2
    for number, text in enumerate(examples):
        path = tmp_path / f"example{number}.toml"
        path.write_text(text)
        family = parse_family_spec(str(path))
        assert family.members[-1].name == "cpu"


def test_a_family_mirror_needs_a_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "src").mkdir()
    status = main(["index", "build", str(tmp_path / "src"), str(tmp_path / "out"),
                   "--index-family", "pytorch"])  # fmt: skip
    assert status == 2
    assert "--index-family needs --profile" in capsys.readouterr().err


def test_a_companion_without_its_anchors_member_gets_nothing(pytorch: Family) -> None:
    torch = family_page(pytorch, "torch", member_pages(pytorch, "torch", TORCH))
    without_cu130 = tuple(m for m in TORCH["2.9.0"] if m != "cu130")
    vision = family_page(
        pytorch, "torchvision", member_pages(pytorch, "torchvision", {"0.24.0": without_cu130})
    )
    h100 = nvidia("13.0", "9.0")
    assert choose_in_family(vision, h100)[0].label == "cu128"  # alone, it would mix
    pinned = follow_anchor(vision, torch, h100)
    assert choose_in_family(pinned, h100)[0].chosen is None
    reasons = [a.reason for a in pinned.absent["0.24.0"] if a.member == "cu130"]
    assert reasons == ["torchvision 0.24.0 has no cu130 build, and torch 2.9 comes from cu130"]


def test_a_wrong_family_stops_the_installer_with_one_line(tmp_path: Path) -> None:
    result = fitwheel("pip", "--index-family", "no-such-family", "install", "-i",
                      "http://127.0.0.1:9/simple/", "torch", clean=True,
                      PIP_CONFIG_FILE="/dev/null")  # fmt: skip
    assert result.returncode == 2
    assert "'no-such-family' is neither a built-in family (pytorch) nor a family file" in (
        result.stderr
    )
