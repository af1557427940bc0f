"""Pictures for the documentation site, drawn as SVG from real runs and the repository's docs.

- `families_heatmap_svg()`: which torch build each machine gets, release by release. It writes
  the tests' PyTorch-shaped index family (`tests/helpers/families.py`: real tiny wheels per
  member, tag and release) into a temporary folder and runs the selection `fitwheel explain`
  runs (`fetch_family_page` + `choose_in_family`) for each machine profile.
- `architecture_svg(text)`: the flow of docs/architecture.md, from its stage table and its
  layer table (each package's one-line role), so the picture follows the document.

Hand-written SVG: text is text (selectable, searchable), system fonts only, no script.
`python tools/pictures.py OUT_DIR` writes both; the mkdocs hook (tools/docs_site.py) makes
them at build time.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"

# torch releases and the members each is published on (as PyTorch published them; members
# that are no member of the built-in family are left out).
TORCH_RELEASES: dict[str, tuple[str, ...]] = {
    "2.8.0": ("cpu", "cu126", "cu128", "cu129", "rocm6.3", "rocm6.4", "xpu"),
    "2.9.0": ("cpu", "cu126", "cu128", "cu130", "rocm6.3", "rocm6.4", "xpu"),
    "2.10.0": ("cpu", "cu126", "cu128", "cu130", "rocm7.0", "rocm7.1", "xpu"),
    "2.11.0": ("cpu", "cu126", "cu128", "cu130", "rocm7.1", "xpu"),
}


@dataclass(frozen=True)
class Machine:
    name: str
    architecture: str
    facts: Mapping[str, Any]


MACHINES = (
    Machine("CPU only", "x86_64", {}),
    Machine("RTX A6000 (sm 8.6), old driver (CUDA 12.4)", "x86_64",
            {"nvidia": {"cuda_driver_version": "12.4", "compute_capabilities": ["8.6"]}}),
    Machine("GTX 1080 Ti (sm 6.1), CUDA 12.8 driver", "x86_64",
            {"nvidia": {"cuda_driver_version": "12.8", "compute_capabilities": ["6.1"]}}),
    Machine("V100 (sm 7.0), CUDA 13.0 driver", "x86_64",
            {"nvidia": {"cuda_driver_version": "13.0", "compute_capabilities": ["7.0"]}}),
    Machine("RTX A6000 (sm 8.6), CUDA 12.8 driver", "x86_64",
            {"nvidia": {"cuda_driver_version": "12.8", "compute_capabilities": ["8.6"]}}),
    Machine("H100 (sm 9.0), CUDA 13.0 driver", "x86_64",
            {"nvidia": {"cuda_driver_version": "13.0", "compute_capabilities": ["9.0"]}}),
    Machine("RTX 5090 (sm 12.0), CUDA 12.8 driver", "x86_64",
            {"nvidia": {"cuda_driver_version": "12.8", "compute_capabilities": ["12.0"]}}),
    Machine("MI300X (gfx942)", "x86_64", {"amd": {"gfx_archs": ["gfx942"]}}),
    Machine("Arc B580 (Xe2)", "x86_64", {"intel": {"device_ips": ["20.1.0"]}}),
    Machine("GH200: aarch64, H100 (sm 9.0), CUDA 13.0", "aarch64",
            {"nvidia": {"cuda_driver_version": "13.0", "compute_capabilities": ["9.0"]}}),
    Machine("aarch64, CPU only", "aarch64", {}),
)  # fmt: skip


@dataclass(frozen=True)
class Cell:
    label: str
    """The chosen build (a member's name), or `none`."""
    reason: str


def _python_tag() -> str:
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def _target(machine: Machine) -> Any:
    from fitwheel.profile import profile_from_document
    from fitwheel.providers import BUILTIN_NAMESPACES, provide_all
    from fitwheel.select import Target

    tag = _python_tag()
    arch = machine.architecture
    interpreter = {
        "implementation": "cpython",
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}.0",
        "architecture": arch,
        "abis": [tag, "abi3", "none"],
        "platforms": [f"manylinux_2_28_{arch}", f"manylinux_2_17_{arch}", f"linux_{arch}"],
    }
    profile = profile_from_document(
        {"interpreter": interpreter, "variants": provide_all(machine.facts)},
        where=machine.name,
        provided_namespaces=frozenset(BUILTIN_NAMESPACES),
    )
    return Target.of(profile)


def heatmap_cells(folder: Path) -> dict[tuple[str, str], Cell]:
    """(machine, release) -> the torch build chosen, from a real run over real wheels."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fitwheel.families import builtin_family
    from fitwheel.families.fetch import fetch_family_page
    from fitwheel.index.client import IndexClient
    from fitwheel.select import choose_in_family
    from fitwheel.select.choose import summary
    from helpers.families import build_family_site

    build_family_site(folder, _python_tag(), torch=TORCH_RELEASES, torchvision={})
    family = builtin_family("pytorch", (folder / "whl").as_uri() + "/")

    async def fetch() -> Any:
        async with IndexClient() as client:
            return await fetch_family_page(client, family, "torch")

    page = asyncio.run(fetch())
    cells = {}
    for machine in MACHINES:
        for choice in choose_in_family(page, _target(machine)):
            if choice.label is not None and choice.chosen is not None:
                cell = Cell(choice.label, summary(choice))
            else:
                cell = Cell("none", choice.reason)
            cells[(machine.name, choice.version)] = cell
    return cells


def _fill(label: str) -> str:
    """Light fills (dark text stays readable): CUDA greens to blues by version, ROCm
    oranges, XPU violet, CPU grey."""
    cuda = re.fullmatch(r"cu(\d+)", label)
    if cuda:
        shades = {"118": "#d9f2d0", "126": "#c7ecc4", "128": "#b9e3e8", "129": "#b4d7f0",
                  "130": "#c6cff7", "132": "#d6c9f5"}  # fmt: skip
        return shades.get(cuda.group(1), "#cfe8dc")
    if label.startswith("rocm"):
        return "#fbd9b5" if label < "rocm7" else "#f7c3a1"
    return {"xpu": "#e7d3f2", "cpu": "#e4e4e4"}.get(label, "#ffffff")


def families_heatmap_svg(cells: Mapping[tuple[str, str], Cell] | None = None) -> str:
    """The machine x release heatmap (built from a real run unless `cells` is given)."""
    if cells is None:
        with tempfile.TemporaryDirectory(prefix="fitwheel-pictures-") as folder:
            cells = heatmap_cells(Path(folder))
    releases = sorted({r for _, r in cells}, key=lambda v: tuple(int(p) for p in v.split(".")))
    machines = list(dict.fromkeys(m for m, _ in cells))
    left, top, width, height = 330, 64, 96, 34
    total_w = left + width * len(releases) + 16
    total_h = top + height * len(machines) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_w} {total_h}" '
        f'width="{total_w}" height="{total_h}" role="img" font-family="{escape(FONT)}" '
        'aria-labelledby="heatmap-title">',
        '<title id="heatmap-title">The torch build each machine gets, per release '
        "(fitwheel's PEP 825 choice over the pytorch index family)</title>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="600" fill="#1b1b1b">'
        "torch release →</text>",
    ]
    for column, release in enumerate(releases):
        x = left + column * width + width / 2
        out.append(
            f'<text x="{x:.0f}" y="52" font-size="14" text-anchor="middle" fill="#1b1b1b">'
            f"{escape(release)}</text>"
        )
    for row, machine in enumerate(machines):
        y = top + row * height
        out.append(
            f'<text x="{left - 10}" y="{y + height / 2 + 5:.0f}" font-size="13" '
            f'text-anchor="end" fill="#1b1b1b">{escape(machine)}</text>'
        )
        for column, release in enumerate(releases):
            cell = cells.get((machine, release), Cell("none", "not published"))
            x = left + column * width
            out.append(
                f"<g><title>{escape(f'{machine}, torch {release}: {cell.label} ({cell.reason})')}"
                f'</title><rect x="{x + 1}" y="{y + 1}" width="{width - 2}" height="{height - 2}" '
                f'rx="4" fill="{_fill(cell.label)}" stroke="#9a9a9a" stroke-width="0.5"/>'
                f'<text x="{x + width / 2:.0f}" y="{y + height / 2 + 5:.0f}" font-size="14" '
                f'text-anchor="middle" fill="#1b1b1b" class="build">{escape(cell.label)}</text></g>'
            )
    note = (
        "Each cell: the member build fitwheel chooses (hover for why). Real wheels, "
        "the same selection as fitwheel explain."
    )
    out.append(f'<text x="16" y="{total_h - 14}" font-size="12" fill="#444">{escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -- the architecture flow --------------------------------------------------------------------

_ROW = re.compile(r"^\|(.*)\|$")
FLOW = ("detect", "describe", "publish", "select", "install", "lock", "dispatch")
"""The stages data flows through, joined by arrows; other stages (the shell, what every stage
shares) are drawn as bands without."""


def _table(text: str, header: Sequence[str]) -> list[list[str]]:
    """The rows of the Markdown table whose header cells are `header` (cells stripped)."""
    rows: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        match = _ROW.match(line.strip())
        if match is None:
            if inside:
                break
            continue
        cells = [cell.strip() for cell in match.group(1).split("|")]
        if not inside:
            inside = cells == list(header)
            continue
        if not set("".join(cells)) <= set("-: "):
            rows.append(cells)
    return rows


def _names(cell: str) -> list[str]:
    return [n.strip().strip("`") for n in cell.split(",") if n.strip()]


@dataclass(frozen=True)
class Stage:
    name: str
    summary: str
    packages: tuple[tuple[str, str], ...]
    """(package, its role from the layer table)."""


def architecture_stages(text: str) -> list[Stage]:
    """docs/architecture.md's stages, each package with its layer-table role.

    Fails (ValueError) when a package of the layer table is in no stage, or a stage names a
    package the layer table lacks: the picture must show the document as it is.
    """
    roles = {
        row[0].strip("`"): row[1]
        for row in _table(text, ("package", "layer", "may import"))
        if len(row) == 3
    }
    stages = [
        Stage(row[0], row[1], tuple((name, roles.get(name, "")) for name in _names(row[2])))
        for row in _table(text, ("stage", "what happens", "packages"))
        if len(row) == 3
    ]
    if not roles or not stages:
        raise ValueError("docs/architecture.md: no layer table or no stage table")
    staged = [name for stage in stages for name, _ in stage.packages]
    unknown = sorted(set(staged) - set(roles))
    missing = sorted(set(roles) - set(staged))
    twice = sorted({name for name in staged if staged.count(name) > 1})
    if unknown or missing or twice:
        raise ValueError(
            "docs/architecture.md: the stage table and the layer table disagree "
            f"(in no stage: {missing}; not in the layer table: {unknown}; twice: {twice})"
        )
    return stages


SUMMARY_CHARS = 18


def _lines(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _plain(markdown: str) -> str:
    """A table cell's text without Markdown: code marks and links dropped."""
    return re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", markdown).replace("`", "")


def architecture_svg(text: str) -> str:
    """The stages top to bottom, each with its packages and their roles."""
    stages = architecture_stages(text)
    card_w, gap, left, chars = 262, 12, 150, 36
    per_row = 3
    out_rows = []
    y = 56
    for stage in stages:
        cards = [(name, _lines(_plain(role), chars)) for name, role in stage.packages]
        rows = max(1, -(-len(cards) // per_row))
        card_h = 26 + 16 * max((len(lines) for _, lines in cards), default=1)
        summary = _lines(stage.summary, SUMMARY_CHARS)
        out_rows.append((stage, cards, y, card_h))
        y += max(rows * (card_h + gap), 40 + 15 * len(summary)) + 26
    total_w = left + per_row * (card_w + gap) + 8
    total_h = y + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_w} {total_h}" '
        f'width="{total_w}" height="{total_h}" role="img" font-family="{escape(FONT)}" '
        'aria-labelledby="architecture-title">',
        '<title id="architecture-title">fitwheel\'s flow: the stages of docs/architecture.md '
        "and the packages of each</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        '<text x="12" y="30" font-size="17" font-weight="600" fill="#1b1b1b">'
        "Data flows one way, top to bottom</text>",
    ]
    for index, (stage, cards, top, card_h) in enumerate(out_rows):
        out.append(
            f'<text x="12" y="{top + 20}" font-size="16" font-weight="700" fill="#174a7c" '
            f'class="stage">{escape(stage.name)}</text>'
        )
        for n, line in enumerate(_lines(stage.summary, SUMMARY_CHARS)):
            out.append(
                f'<text x="12" y="{top + 40 + 15 * n}" font-size="12" fill="#444">'
                f"{escape(line)}</text>"
            )
        for position, (name, lines) in enumerate(cards):
            x = left + (position % per_row) * (card_w + gap)
            y = top + (position // per_row) * (card_h + gap)
            out.append(
                f'<g><rect x="{x}" y="{y}" width="{card_w}" height="{card_h}" rx="6" '
                'fill="#eef4fb" stroke="#7a9cc0"/>'
                f'<text x="{x + 10}" y="{y + 19}" font-size="14" font-weight="600" '
                f'fill="#1b1b1b" class="package">{escape(name)}</text>'
            )
            for n, line in enumerate(lines):
                out.append(
                    f'<text x="{x + 10}" y="{y + 37 + 16 * n}" font-size="12" fill="#333">'
                    f"{escape(line)}</text>"
                )
            out.append("</g>")
        following = out_rows[index + 1] if index + 1 < len(out_rows) else None
        if following is not None and stage.name in FLOW and following[0].name in FLOW:
            summary_end = top + 36 + 15 * len(_lines(stage.summary, SUMMARY_CHARS))
            out.append(
                f'<line x1="40" y1="{summary_end}" x2="40" y2="{following[2] - 2}" '
                'stroke="#555" stroke-width="2" marker-end="url(#arrow)"/>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def pictures() -> dict[str, str]:
    """File name -> SVG, for every picture of the site."""
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return {
        "families-heatmap.svg": families_heatmap_svg(),
        "architecture-flow.svg": architecture_svg(architecture),
    }


def write_pictures(folder: Path) -> list[Path]:
    """Every picture into `folder`; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, svg in pictures().items():
        path = folder / name
        path.write_text(svg, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/pictures.py OUT_DIR")
    for path in write_pictures(Path(sys.argv[1])):
        sys.stdout.write(f"{path}\n")
