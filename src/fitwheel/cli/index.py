"""`fitwheel index build SRC_DIR OUT_DIR`: publish a folder of distributions as a static index."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fitwheel.families import Family
    from fitwheel.index import Documents
    from fitwheel.index.model import ProjectPage
    from fitwheel.select import Target

from fitwheel.cli._common import add_family_option, add_network_options, url_type
from fitwheel.progress import Count

LOG = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "index", help="publish static simple indexes", description=__doc__
    )
    commands = parser.add_subparsers(dest="index_command", metavar="SUBCOMMAND", required=True)
    build = commands.add_parser(
        "build",
        help="write a static simple index (HTML + PEP 691 JSON) from a folder of files",
        description="Write a complete simple index of SRC_DIR's wheels, variant wheels and "
        "sdists into OUT_DIR: root and project pages in PEP 503 HTML and PEP 691 JSON, sha256 "
        "fragments, PEP 658/714 .metadata sidecars, requires-python, and each release's "
        "{name}-{version}-variants.json (generated from the variant wheels, merged with one "
        "already in SRC_DIR). Re-running updates OUT_DIR incrementally. With --profile, the "
        "index is resolved for one target: each release lists only the file it should get, "
        "variant wheels under their label-less name, for stock pip/uv/poetry/pdm. Serve OUT_DIR "
        "as-is, except its dot files; docs/nginx-simple-index.conf negotiates JSON/HTML by "
        "Accept header. Symbolic links in SRC_DIR are not followed; files are published as "
        "copies. The build deletes only files it created, and refuses a non-empty OUT_DIR it "
        "did not write unless --force.",
    )
    build.add_argument(
        "source", metavar="SRC_DIR", help="a folder of wheels and sdists (any layout)"
    )
    build.add_argument("output", metavar="OUT_DIR", help="where the static index is written")
    build.add_argument(
        "--base-url",
        metavar="URL",
        type=url_type(),
        help="absolute URL OUT_DIR will be served at (default: relative links)",
    )
    build.add_argument(
        "--profile",
        metavar="FILE",
        help="write a resolved index for the target this profile describes",
    )
    add_family_option(build)
    add_network_options(build)
    build.add_argument(
        "--force",
        action="store_true",
        help="write into an OUT_DIR index build did not make (nothing already there is deleted)",
    )
    build.add_argument(
        "--prune",
        action="store_true",
        help="remove the projects this builder published that are gone from SRC_DIR",
    )
    build.set_defaults(func=run_build)


class _Progress:
    """`fitwheel: building index: 1,200/3,000 files` while the source folder is read (see
    `fitwheel.progress`: on a terminal or with -v, once it takes more than a second)."""

    def __init__(self) -> None:
        self.count: Count | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.count is None:
            self.count = Count("building index", total, "files")
        self.count.update(done)


def _waiting() -> None:
    # Not progress: the reason the command stops, shown unless -q.
    LOG.warning("waiting for another index build of this folder to finish")


def run_build(args: argparse.Namespace) -> int:
    import os

    from fitwheel.detect import detect
    from fitwheel.errors import InvalidFamily
    from fitwheel.families import families_from
    from fitwheel.index.build import Resolve, build_index
    from fitwheel.select import Target, resolve_page

    families = families_from(args.index_family, os.environ)
    if families and args.profile is None:
        raise InvalidFamily(
            "--index-family needs --profile: a mirror of a family lists, per release, the "
            "one build that fits the profile's machine"
        )
    profile = None if args.profile is None else detect(profile=args.profile)
    resolve: Resolve | None = None
    if profile is not None:
        target = Target.of(profile)

        def resolved(page: ProjectPage, documents: Documents) -> ProjectPage:
            # Only each release's chosen file, under the name a stock installer takes.
            return resolve_page(page, target, documents, only_chosen=True)

        resolve = resolved
    report = build_index(
        args.source,
        args.output,
        base_url=args.base_url,
        resolve=resolve,
        force=args.force,
        prune=args.prune,
        progress=_Progress(),
        on_wait=_waiting,
        skip_unreadable=True,
    )
    kind = f"resolved index for {profile.source}" if profile is not None else "index"
    print(
        f"{kind}: {report.projects} projects, {report.files} files "
        f"({report.read} read, {report.written} outputs written) in {args.output}"
    )
    for project in report.pruned:
        print(f"removed project {project}: gone from {args.source}")
    if report.kept:
        LOG.warning(
            "kept %d projects gone from %s (--prune removes them): %s",
            len(report.kept),
            args.source,
            ", ".join(report.kept),
        )
    for skipped in report.skipped:
        LOG.warning("skipped %s: %s", skipped.path, skipped.reason)
    if families and profile is not None:
        _mirror(args, families, Target.of(profile))
    return 0


def _mirror(args: argparse.Namespace, families: Sequence[Family], target: Target) -> None:
    """Add the families' projects, resolved for `target`, to the index in `args.output`."""
    from fitwheel.cli._common import network_options
    from fitwheel.index.client import ClientSettings
    from fitwheel.serve.mirror import write_family_mirror

    output = args.output
    settings = ClientSettings(network=network_options(args))
    mirrored = write_family_mirror(output, families, target, settings=settings)
    names = ", ".join(f.name for f in families)
    print(f"index family {names}: {len(mirrored.written)} projects resolved into {output}")
    for project in mirrored.missing:
        LOG.warning("skipped %s: no member of its family has it", project)
