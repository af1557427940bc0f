"""Real, minimal wheels for tests: `make_wheel` writes a valid wheel with a correct RECORD."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

# Fixed timestamp and mode, as `wheel` itself writes them, so the same input gives the same bytes.
_DATE_TIME = (2020, 1, 1, 0, 0, 0)
_FILE_MODE = (stat.S_IFREG | 0o644) << 16


def record_hash(data: bytes) -> str:
    """RECORD's `sha256=<urlsafe base64, unpadded>` form."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_wheel(
    directory: str | Path,
    name: str,
    version: str,
    tags: str = "py3-none-any",
    files: Mapping[str, bytes | str] | None = None,
    build: str | None = None,
    metadata: tuple[str, ...] = (),
) -> Path:
    """Write `{name}-{version}(-{build})-{tags}.whl` into `directory` and return its path.

    `tags` is the `python-abi-platform` triple (compressed tag sets such as `py2.py3` are
    fine). `files` maps archive paths to contents; the default is a one-line
    `{name}/__init__.py`. METADATA, WHEEL and a RECORD whose every hash and size is right are
    added, so installers and `variantlib` accept the result. `metadata` adds METADATA lines
    such as `Requires-Python: >=3.12` or `Requires-Dist: other>=1`.
    """
    dist = canonicalize_name(name).replace("-", "_")
    if files is None:
        files = {f"{dist}/__init__.py": f'__version__ = "{version}"\n'}
    dist_info = f"{dist}-{version}.dist-info"
    python, abi, platform = tags.split("-")
    wheel_tags = [
        f"Tag: {py}-{a}-{plat}\n"
        for py in python.split(".")
        for a in abi.split(".")
        for plat in platform.split(".")
    ]
    contents: dict[str, bytes] = {
        path: data.encode() if isinstance(data, str) else data for path, data in files.items()
    }
    contents[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"{line}\n" for line in metadata)
    ).encode()
    contents[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: fitwheel-tests\n"
        f"Root-Is-Purelib: {'true' if abi == 'none' else 'false'}\n"
        + "".join(wheel_tags)
        + (f"Build: {build}\n" if build else "")
    ).encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for member, data in contents.items():
        writer.writerow([member, record_hash(data), str(len(data))])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    contents[f"{dist_info}/RECORD"] = record.getvalue().encode()

    parts = [dist, version] + ([build] if build else []) + [tags]
    path = Path(directory) / ("-".join(parts) + ".whl")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in contents.items():
            info = zipfile.ZipInfo(member, date_time=_DATE_TIME)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def verify_record(wheel: str | Path) -> list[str]:
    """Every problem with a wheel's RECORD (empty when each entry's hash and size match).

    Checks both ways: each listed file exists with the listed sha256 and size, and each
    archive member except RECORD itself (and directories) is listed.
    """
    problems: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        names = [i.filename for i in archive.infolist() if not i.is_dir()]
        records = [n for n in names if n.endswith(".dist-info/RECORD") and n.count("/") == 1]
        if len(records) != 1:
            return [f"expected one top-level .dist-info/RECORD, found {records}"]
        rows = list(csv.reader(io.StringIO(archive.read(records[0]).decode())))
        listed: set[str] = set()
        for row in rows:
            if len(row) != 3:
                problems.append(f"malformed RECORD row {row!r}")
                continue
            path, digest, size = row
            if path in listed:
                problems.append(f"{path}: listed twice")
            listed.add(path)
            if path == records[0]:
                if digest or size:
                    problems.append(f"{path}: RECORD must not hash itself")
                continue
            if path not in names:
                problems.append(f"{path}: listed but not in the archive")
                continue
            data = archive.read(path)
            if digest != record_hash(data):
                problems.append(f"{path}: hash {digest} != {record_hash(data)}")
            if size != str(len(data)):
                problems.append(f"{path}: size {size} != {len(data)}")
        problems.extend(f"{n}: in the archive but not in RECORD" for n in names if n not in listed)
    return problems
