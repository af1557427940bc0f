"""The documentation site's pictures (tools/pictures.py): drawn from architecture.md's tables and
from a real selection run over the PyTorch-shaped index family of real wheels."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from pictures import (  # noqa: E402
    MACHINES,
    TORCH_RELEASES,
    Cell,
    architecture_stages,
    architecture_svg,
    families_heatmap_svg,
    heatmap_cells,
)

from test_architecture import layer_table  # noqa: E402

ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def texts(svg: str, css_class: str) -> list[str]:
    return re.findall(rf'class="{css_class}">([^<]*)</text>', svg)


def test_every_package_of_the_layer_table_is_in_one_stage_of_the_flow() -> None:
    stages = architecture_stages(ARCHITECTURE)
    staged = [name for stage in stages for name, _ in stage.packages]
    expected = {f"fitwheel.{n}" if n != "__init__" else "fitwheel" for n in layer_table()}
    assert sorted(staged) == sorted(expected)
    assert [s.name for s in stages][1:8] == [
        "detect", "describe", "publish", "select", "install", "lock", "dispatch",
    ]  # fmt: skip
    svg = architecture_svg(ARCHITECTURE)
    assert texts(svg, "package") == staged
    assert texts(svg, "stage") == [s.name for s in stages]
    assert "compiler flags of a property set" in svg  # the layer table's words
    assert svg.count("marker-end=") == 6  # detect -> ... -> dispatch


def test_a_package_missing_from_the_stages_stops_the_picture() -> None:
    text = ARCHITECTURE.replace(", `fitwheel.verify` |", " |")
    with pytest.raises(ValueError, match=r"in no stage: \['fitwheel.verify'\]"):
        architecture_stages(text)
    text = ARCHITECTURE.replace(
        "| `fitwheel.runtime` |\n", "| `fitwheel.runtime`, `fitwheel.gpu` |\n"
    )
    with pytest.raises(ValueError, match=r"not in the layer table: \['fitwheel.gpu'\]"):
        architecture_stages(text)


def test_the_heatmap_writes_each_label_in_its_cell_escaped() -> None:
    cells = {
        ("H100 <b>", "2.9.0"): Cell("cu130", "best"),
        ("H100 <b>", "2.10.0"): Cell("<cu&>", "odd"),
        ("CPU", "2.9.0"): Cell("cpu", "only"),
    }
    svg = families_heatmap_svg(cells)
    assert texts(svg, "build") == ["cu130", "&lt;cu&amp;&gt;", "cpu", "none"]
    assert "H100 &lt;b&gt;" in svg and "<b>" not in svg
    assert 'fill="#c6cff7"' in svg and 'fill="#e4e4e4"' in svg
    assert "<title>CPU, torch 2.10.0: none (not published)</title>" in svg


EXPECTED = {
    "CPU only": "cpu cpu cpu cpu",
    "RTX A6000 (sm 8.6), old driver (CUDA 12.4)": "cpu cpu cpu cpu",
    "GTX 1080 Ti (sm 6.1), CUDA 12.8 driver": "cu126 cu126 cu126 cu126",
    "V100 (sm 7.0), CUDA 13.0 driver": "cu129 cu128 cu128 cu126",
    "RTX A6000 (sm 8.6), CUDA 12.8 driver": "cu128 cu128 cu128 cu128",
    "H100 (sm 9.0), CUDA 13.0 driver": "cu129 cu130 cu130 cu130",
    "RTX 5090 (sm 12.0), CUDA 12.8 driver": "cu128 cu128 cu128 cu128",
    "MI300X (gfx942)": "rocm6.4 rocm6.4 rocm7.1 rocm7.1",
    "Arc B580 (Xe2)": "xpu xpu xpu xpu",
    "GH200: aarch64, H100 (sm 9.0), CUDA 13.0": "cu129 cu130 cu130 cu130",
    "aarch64, CPU only": "cpu cpu cpu cpu",
}


@pytest.mark.slow
def test_the_heatmap_is_the_selection_of_a_real_run(tmp_path: Path) -> None:
    cells = heatmap_cells(tmp_path)
    releases = list(TORCH_RELEASES)
    assert {m.name for m in MACHINES} == set(EXPECTED)
    got = {m.name: " ".join(cells[(m.name, r)].label for r in releases) for m in MACHINES}
    assert got == EXPECTED
    assert cells[("GTX 1080 Ti (sm 6.1), CUDA 12.8 driver", "2.11.0")].reason == (
        "cu130 needs a driver for CUDA 13.0 or newer; the target's driver supports CUDA 12.8"
    )
