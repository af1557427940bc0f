"""The public face: `fitwheel.__all__`, the runnable example in docs/api.md, sync-in-async."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import fitwheel
from helpers.variants import make_variant, plain_wheel

DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def test_every_public_name_resolves_and_is_documented() -> None:
    text = DOCS.read_text()
    for name in fitwheel.__all__:
        assert getattr(fitwheel, name) is not None
        if name != "__version__" and not name[0].isupper():
            assert f"`{name}" in text, f"docs/api.md does not mention {name}"


def test_import_fitwheel_loads_no_heavy_dependency() -> None:
    code = "import fitwheel, sys; print(sorted(m for m in ('aiohttp', 'packaging') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_documented_example_runs_and_prints_what_the_docs_say() -> None:
    text = DOCS.read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S)
    shown = re.search(r"It prints:\n\n```text\n(.*?)```", text, re.S)
    assert code is not None and shown is not None
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code.group(1), str(DOCS), "exec"), {})
    assert output.getvalue() == shown.group(1)


def test_fetch_project_works_inside_a_running_event_loop(tmp_path: Path) -> None:
    """A notebook or an async application calls the sync form: it must not fail."""
    plain = plain_wheel(tmp_path / "plain", "demo", "1.0")
    make_variant(plain, tmp_path / "links", "x86_64 :: level :: v3", label="x86_64_v3")
    make_variant(plain, tmp_path / "links", null=True, namespace_priority="x86_64")
    fitwheel.generate_variants_json(tmp_path / "links")

    async def inside() -> tuple[str, ...]:
        page, documents = fitwheel.fetch_project(str(tmp_path / "links"), "demo")
        assert isinstance(documents["1.0"], fitwheel.VariantsDocument)
        return tuple(sorted(f.filename for f in page.files))

    assert asyncio.run(inside()) == (
        "demo-1.0-py3-none-any-null.whl",
        "demo-1.0-py3-none-any-x86_64_v3.whl",
        "demo-1.0-variants.json",
    )


def test_the_type_checking_imports_match_the_lazy_table() -> None:
    """Type checkers read the `TYPE_CHECKING` imports, Python the lazy table: one list."""
    import ast

    tree = ast.parse(Path(fitwheel.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If))
    imported = {
        (node.module, alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fitwheel")
        for alias in node.names
    }
    lazy = {(module, name) for module, names in fitwheel._MODULES.items() for name in names}
    assert imported == lazy
    assert set(fitwheel.__all__) == {"__version__", *(name for _, name in lazy)}
