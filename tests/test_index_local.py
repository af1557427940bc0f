"""Local-folder indexes: a project name cannot lead outside the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from fitwheel.errors import ProjectNotFound
from fitwheel.index.local import read_local_page
from wheelmaker import make_wheel


@pytest.mark.parametrize("name", ["../outside", "..", "a/../../outside", "/outside", ""])
def test_a_name_that_is_no_project_name_reads_nothing(tmp_path: Path, name: str) -> None:
    tree = tmp_path / "tree"
    (tree / "demo").mkdir(parents=True)
    (tree / "demo" / "index.html").write_text("")
    # A page a name with `..` would reach if it were joined as given.
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "index.html").write_text('<a href="x-1.0.tar.gz">x-1.0.tar.gz</a>')
    make_wheel(tmp_path, "outside", "1.0")
    with pytest.raises(ProjectNotFound, match="not a valid project name"):
        read_local_page(str(tree), name)


def test_a_valid_name_reads_its_page(tmp_path: Path) -> None:
    make_wheel(tmp_path / "flat", "demo", "1.0")
    page = read_local_page(str(tmp_path / "flat"), "Demo")
    assert [f.filename for f in page.files] == ["demo-1.0-py3-none-any.whl"]
