"""Families by name or file: the built-in `pytorch`, family TOML files, `NAME[=URL]` specs.

A family file:

    name = "llama-cpp-python"                       # for messages
    url = "https://abetlen.github.io/llama-cpp-python/whl/"   # the base; NAME=URL replaces it
    projects = ["llama-cpp-python"]
    extends = "pytorch"                             # optional: start from a built-in family

    [[members]]
    name = "cu124"                                  # the label of its builds
    url = "{base}cu124/"                            # default "{base}{name}/"
    properties = ["nvidia :: cuda_version_lower_bound :: 12.4", "nvidia :: sm_arch :: 86_real"]

A member may also be a bare name (`members = ["cu132"]`) whose properties the build table
derives (`cuXYZ`, `rocmX.Y`, `xpu`, `cpu`). `[releases]`, `[xpu]` and `[companions]` tables
add to (and replace entries of) the extended family's build table.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from fitwheel.errors import InvalidFamily, InvalidProperty
from fitwheel.families.builds import BuildTable, build_table_from_document
from fitwheel.families.model import Family, Member
from fitwheel.families.naming import CPU, XPU, cuda_version, is_derivable, rocm_version
from fitwheel.variants.properties import LABEL_RE, VariantDescription

FAMILIES_ENV = "FITWHEEL_INDEX_FAMILIES"
"""Family specs separated by commas or whitespace, as `--index-family` takes them; `none`
turns the wrappers' default family off."""
BUILTIN = ("pytorch",)
NONE = "none"


def _read_builtin(name: str) -> Mapping[str, Any]:
    text = resources.files("fitwheel.families").joinpath(f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def _member_order(member: Member) -> tuple[int, float, float]:
    """Derived members, newest build first within each kind: CUDA, ROCm, XPU, then CPU."""
    cuda, rocm = cuda_version(member.name), rocm_version(member.name)
    if cuda is not None:
        return (0, -cuda[0], -cuda[1])
    if rocm is not None:
        return (1, -rocm[0], -rocm[1])
    return (2 if member.name == XPU else 3 if member.name == CPU else 4, 0, 0)


def _members(raw: Any, base: str, where: str, table: BuildTable | None) -> list[Member]:
    """Each entry of `members` (a name, or a table) as a member."""
    if not isinstance(raw, list):
        raise InvalidFamily(f"{where}: members must be a list of names or tables")
    members = []
    for entry in raw:
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise InvalidFamily(f"{where}: each member needs a name")
        name = entry["name"].lower()
        if not LABEL_RE.fullmatch(name) or name == "null":
            raise InvalidFamily(
                f"{where}: member name {name!r} must match [0-9a-z_.]+ (it becomes the label of "
                "its builds) and must not be 'null'"
            )
        template = entry.get("url", "{base}{name}/")
        if not isinstance(template, str):
            raise InvalidFamily(f"{where}: member {name!r}: url must be a string")
        description = None
        if "properties" in entry:
            values = entry["properties"]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise InvalidFamily(f"{where}: member {name!r}: properties must be strings")
            try:
                description = VariantDescription.from_properties(values)
            except InvalidProperty as exc:
                raise InvalidFamily(f"{where}: member {name!r}: {exc}") from None
        elif not (table is not None and is_derivable(name)):
            raise InvalidFamily(
                f"{where}: member {name!r} declares no properties, and no build table derives "
                "them from its name (only cuXYZ, rocmX.Y, xpu and cpu are derived)"
            )
        members.append(Member(name, _render(template, base, name), description))
    return members


def _render(template: str, base: str, name: str) -> str:
    return template.replace("{base}", base).replace("{name}", name)


def family_from_document(
    data: Mapping[str, Any], *, where: str, base_url: str | None = None
) -> Family:
    """A family from its decoded TOML; `base_url` replaces its `url` (`NAME=URL`)."""
    parent: Mapping[str, Any] = {}
    extends = data.get("extends")
    if extends is not None:
        if extends not in BUILTIN:
            raise InvalidFamily(f"{where}: extends {extends!r}: no such built-in family")
        parent = _read_builtin(str(extends))
    merged: dict[str, Any] = {**parent, **{k: v for k, v in data.items() if k != "members"}}
    for key in ("releases", "xpu", "companions"):
        merged[key] = {**parent.get(key, {}), **data.get(key, {})}
    name, url = merged.get("name"), base_url or merged.get("url")
    if not isinstance(name, str) or not isinstance(url, str):
        raise InvalidFamily(f"{where}: a family needs a name and a url (the members' base)")
    base = url if url.endswith(("/", ".html", ".htm")) else url + "/"
    projects = merged.get("projects")
    if not isinstance(projects, list) or not projects:
        raise InvalidFamily(f"{where}: projects must list the projects the family carries")
    table = None
    if merged["releases"] or merged["xpu"]:
        table = build_table_from_document(merged, where=where)
    raw_members = list(parent.get("members", [])) + list(data.get("members", []))
    members = _members(raw_members, base, where, table)
    unique = list({m.name: m for m in members}.values())
    if not unique:
        raise InvalidFamily(f"{where}: a family needs at least one member")
    if table is not None and all(m.properties is None for m in unique):
        unique.sort(key=_member_order)
    anchor = merged.get("anchor")
    return Family(
        name=name,
        url=base,
        members=tuple(unique),
        projects=frozenset(canonicalize_name(str(p)) for p in projects),
        table=table,
        anchor=canonicalize_name(anchor) if isinstance(anchor, str) else None,
    )


def builtin_family(name: str, base_url: str | None = None) -> Family:
    if name not in BUILTIN:
        raise InvalidFamily(f"no built-in family {name!r} (built in: {', '.join(BUILTIN)})")
    return family_from_document(
        _read_builtin(name), where=f"built-in family {name!r}", base_url=base_url
    )


def load_family_file(path: str | Path, base_url: str | None = None) -> Family:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise InvalidFamily(f"cannot read family file {str(path)!r}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidFamily(f"{path}: not valid TOML: {exc}") from None
    return family_from_document(data, where=str(path), base_url=base_url)


def parse_family_spec(spec: str) -> Family:
    """`pytorch`, `pytorch=URL`, `FILE.toml` or `FILE.toml=URL`."""
    name, eq, url = spec.partition("=")
    name = name.strip()
    base = url.strip() if eq else None
    if eq and not base:
        raise InvalidFamily(f"--index-family {spec!r}: the URL after '=' is empty")
    if name in BUILTIN:
        return builtin_family(name, base)
    if Path(name).is_file():
        return load_family_file(name, base)
    raise InvalidFamily(
        f"--index-family {spec!r}: {name!r} is neither a built-in family "
        f"({', '.join(BUILTIN)}) nor a family file"
    )


def split_specs(value: str) -> list[str]:
    """`FITWHEEL_INDEX_FAMILIES`: specs separated by commas or whitespace."""
    return [part for part in value.replace(",", " ").split() if part]


def load_families(specs: Iterable[str]) -> tuple[Family, ...]:
    """The families of the specs (none for `none`); two claiming one project is an error."""
    families = tuple(parse_family_spec(s) for s in specs if s.strip() and s.strip() != NONE)
    owners: dict[str, str] = {}
    for family in families:
        for project in family.projects:
            if project in owners:
                raise InvalidFamily(
                    f"project {project!r} is in two index families ({owners[project]} and "
                    f"{family.name}); give one of them"
                )
            owners[project] = family.name
    return families


def families_from(
    given: Sequence[str], env: Mapping[str, str], *, default: Sequence[str] = ()
) -> tuple[Family, ...]:
    """`--index-family` values, else `FITWHEEL_INDEX_FAMILIES`, else `default`."""
    if given:
        return load_families(given)
    configured = env.get(FAMILIES_ENV, "")
    if configured.strip():
        return load_families(split_specs(configured))
    return load_families(default)


def family_for(families: Sequence[Family], project: str) -> Family | None:
    name = canonicalize_name(project)
    return next((f for f in families if name in f.projects), None)
