"""Reading a project's pages from every member of a family at once."""

from __future__ import annotations

import asyncio

from packaging.utils import canonicalize_name

from fitwheel.errors import FitwheelError, IndexUnavailable, ProjectNotFound
from fitwheel.families.model import Family, Member
from fitwheel.families.view import FamilyPage, family_page
from fitwheel.index.client import IndexClient
from fitwheel.index.credentials import redact
from fitwheel.index.model import ProjectPage


async def fetch_family_page(client: IndexClient, family: Family, project: str) -> FamilyPage:
    """The project across the family's members, their pages fetched concurrently.

    A member without the project (404) is reported per release; a member that fails otherwise
    (unreachable, 5xx, malformed) is an error: choosing among the others would give a machine
    a worse build, or a CPU build, without saying so.
    """
    name = canonicalize_name(project)

    async def one(member: Member) -> ProjectPage | str:
        try:
            return await client.project_page(member.url, name)
        except ProjectNotFound as exc:
            return f"{member.name} has no page for {name}: {exc}"
        except FitwheelError as exc:
            raise IndexUnavailable(
                f"index family {family.name!r}, member {member.name} ({redact(member.url)}): {exc}"
            ) from None

    pages = await asyncio.gather(*(one(m) for m in family.members))
    by_member = {m.name: p for m, p in zip(family.members, pages, strict=True)}
    if all(isinstance(p, str) for p in pages):
        raise ProjectNotFound(
            f"no member of index family {family.name!r} has project {name!r} "
            f"(asked {len(pages)} members under {redact(family.url)})"
        )
    return family_page(family, name, by_member)


async def fetch_with_anchor(
    client: IndexClient, family: Family, project: str
) -> tuple[FamilyPage, FamilyPage | None]:
    """The project's family page and, for a companion project, its anchor's (concurrently)."""
    name = canonicalize_name(project)
    if family.anchor is None or family.anchor == name:
        return await fetch_family_page(client, family, name), None
    page, anchor = await asyncio.gather(
        fetch_family_page(client, family, name), fetch_family_page(client, family, family.anchor)
    )
    return page, anchor
