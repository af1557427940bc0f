"""The status page at `/` and the explain views: what a server serves, how its upstreams answer,
and which build of a project each profile gets, and why.

Each view is a JSON document first (`status_document` with `search_row`s, `explain_document`);
the HTML is that document through string templates, every string from outside (project names,
upstream URLs and error lines, file names, reasons) escaped with `html.escape` and cut to a
bound. No script, no external resource: the page is readable as it comes, on a phone too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from fitwheel._version import __version__
from fitwheel.index.credentials import redact
from fitwheel.profile import Profile
from fitwheel.select import ReleaseChoice, choice_to_json
from fitwheel.serve.health import UpstreamState

STATUS_CONTENT_TYPES = ("text/html", "application/json")
"""What `/` and the explain views answer with (HTML unless JSON is preferred)."""

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}

MAX_PROJECT_CHARS = 100
"""A searched name longer than this is refused (PyPI's longest names are far shorter)."""
SEARCH_RELEASES = 3
"""Newest releases shown per profile on the status page (the explain view shows more)."""
MAX_RELEASES = 50
"""Releases an explain view shows, newest first."""
MAX_REJECTIONS = 100
"""Rejected files an explain view shows per release."""
MAX_TEXT = 500
"""Characters of any one string from outside that a view shows."""

# The features that say most about a machine, per namespace (the first value is its best).
_KEY_FEATURES = {
    "x86_64": ("level",),
    "aarch64": ("version",),
    "nvidia": ("cuda_version_lower_bound", "sm_arch"),
    "amd": ("gfx_arch", "rocm_version"),
    "intel": ("device_ip",),
    "tpu": ("present",),
}


def index_path(profile: str) -> str:
    return f"/p/{quote(profile)}/simple/" if profile else "/simple/"


def explain_path(profile: str, project: str) -> str:
    prefix = f"/p/{quote(profile)}" if profile else ""
    return f"{prefix}/explain/{quote(project)}"


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def profile_facts(profile: Profile) -> dict[str, Any]:
    """A profile's key facts: architecture, Python, and the best value of each namespace's
    telling features (`nvidia`: `cuda_version_lower_bound 12.8, sm_arch 86_real`)."""
    interpreter = profile.interpreter
    python = None
    architecture = None
    if interpreter is not None:
        version = ".".join(str(part) for part in interpreter.python_version)
        python = f"{interpreter.implementation} {version}"
        architecture = interpreter.architecture
    namespaces = {}
    for namespace, features in profile.variants.namespaces.items():
        shown = [
            f"{feature} {features[feature][0]}"
            for feature in _KEY_FEATURES.get(namespace, ())
            if features.get(feature)
        ]
        count = len(features)
        namespaces[namespace] = ", ".join(shown) or f"{count} feature{'s' if count != 1 else ''}"
    return {"architecture": architecture, "python": python, "namespaces": namespaces}


def status_document(
    profiles: Mapping[str, Profile], upstreams: Sequence[UpstreamState]
) -> dict[str, Any]:
    """The server's state: its version, profiles and upstreams' health."""
    return {
        "fitwheel": __version__,
        "profiles": [
            {"name": name, "index": index_path(name), **profile_facts(profile)}
            for name, profile in profiles.items()
        ],
        "upstreams": [
            {
                "url": state.url,
                "kind": state.kind,
                "healthy": state.healthy,
                "last_success": _when(state.last_success),
                "last_failure": _when(state.last_failure),
                "last_error": state.last_error,
                "successes": state.successes,
                "failures": state.failures,
            }
            for state in upstreams
        ],
    }


def build_of(choice: ReleaseChoice) -> str:
    """What a release gives: its variant label, else the kind of file, else nothing."""
    if choice.chosen is None:
        return "nothing fits"
    if choice.label is not None:
        return choice.label
    return "plain wheel" if choice.chosen.filename.endswith(".whl") else "source distribution"


def search_row(
    profile: str, project: str, outcome: Sequence[ReleaseChoice] | str
) -> dict[str, Any]:
    """One profile's answer for a project: its newest releases' builds, or why there is none."""
    row: dict[str, Any] = {"profile": profile, "explain": explain_path(profile, project)}
    if isinstance(outcome, str):
        return {**row, "error": _cut(outcome), "releases": []}
    releases = [
        {
            "version": choice.version,
            "build": build_of(choice),
            "filename": _cut(choice.chosen.filename) if choice.chosen is not None else None,
            "reason": _cut(choice.reason),
        }
        for choice in outcome[:SEARCH_RELEASES]
    ]
    return {**row, "error": None, "releases": releases}


def explain_document(
    profile: str, project: str, choices: Sequence[ReleaseChoice]
) -> dict[str, Any]:
    """Every release's choice for one profile, as `fitwheel explain --format json` gives it
    (bounded; upstream URLs without user info)."""
    releases = []
    for choice in choices[:MAX_RELEASES]:
        entry = choice_to_json(choice)
        if entry["chosen"] is not None:
            entry["chosen"]["url"] = _cut(redact(entry["chosen"]["url"]))
            entry["chosen"]["reason"] = _cut(entry["chosen"]["reason"])
        entry["reason"] = _cut(entry["reason"])
        rejected = entry["rejected"]
        entry["rejected"] = [
            {"filename": _cut(r["filename"]), "reason": _cut(r["reason"])}
            for r in rejected[:MAX_REJECTIONS]
        ]
        entry["rejected_not_shown"] = max(0, len(rejected) - MAX_REJECTIONS)
        releases.append(entry)
    return {
        "project": project,
        "profile": profile,
        "index": index_path(profile),
        "releases": releases,
        "releases_not_shown": max(0, len(choices) - MAX_RELEASES),
    }


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;
line-height:1.4;color:#1b1b1b;background:#fff}}
h1{{font-size:1.4rem}} h2{{font-size:1.15rem;margin-top:1.6rem}}
table{{border-collapse:collapse;width:100%;display:block;overflow-x:auto}}
th,td{{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #ddd}}
code{{font-size:.9em;word-break:break-all}}
.ok{{color:#0a6b2d}} .bad{{color:#a51d1d}} .idle{{color:#555}}
form{{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}}
input{{flex:1 1 12rem;font-size:1rem;padding:.4rem}} button{{font-size:1rem;padding:.4rem .8rem}}
.error{{color:#a51d1d;font-weight:600}} .muted{{color:#555}}
li{{margin:.2rem 0}}
@media (max-width:40rem){{
table,tbody,tr,td{{display:block}} tr:first-child{{display:none}}
tr{{border-bottom:1px solid #ddd;padding:.4rem 0}} td{{border:0;padding:.1rem 0}}
td[data-label]::before{{content:attr(data-label) ": ";color:#555}}
}}
</style></head>
<body>
{body}
<p class="muted">fitwheel {version}</p>
</body></html>
"""


def _page(title: str, body: str) -> bytes:
    return _PAGE.format(title=escape(title), body=body, version=escape(__version__)).encode()


def _text(value: object) -> str:
    return escape(str(value)) if value is not None else "—"


def _health_cell(healthy: bool | None) -> str:
    if healthy is None:
        return '<span class="idle">not asked yet</span>'
    return '<span class="ok">answering</span>' if healthy else '<span class="bad">failing</span>'


def _profiles_table(profiles: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(
        '<tr><td><b>{name}</b></td><td><a href="{href}"><code>{index}</code></a></td>'
        '<td data-label="architecture">{arch}</td><td data-label="python">{python}</td>'
        "<td>{namespaces}</td></tr>\n".format(
            name=escape(p["name"] or "(this server's profile)"),
            href=escape(p["index"]),
            index=escape(p["index"]),
            arch=_text(p["architecture"]),
            python=_text(p["python"]),
            namespaces="<br>".join(
                f"{escape(ns)}: {escape(facts)}" for ns, facts in p["namespaces"].items()
            )
            or "—",
        )
        for p in profiles
    )
    return (
        '<h2>Profiles</h2>\n<table id="profiles"><tr><th>profile</th><th>index</th><th>architecture</th>'
        f"<th>python</th><th>supports</th></tr>\n{rows}</table>\n"
    )


def _upstreams_table(upstreams: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(
        '<tr><td><code>{url}</code><br><span class="muted">{kind}</span></td><td>{state}</td>'
        '<td data-label="last success">{success}</td><td data-label="last failure">{failure}</td>'
        '<td data-label="last error">{error}</td></tr>\n'.format(
            url=escape(u["url"]),
            kind=escape(u["kind"]),
            state=_health_cell(u["healthy"]),
            success=_text(u["last_success"]),
            failure=_text(u["last_failure"]),
            error=_text(u["last_error"]),
        )
        for u in upstreams
    )
    return (
        '<h2>Upstreams</h2>\n<table id="upstreams"><tr><th>upstream</th><th>state</th><th>last success</th>'
        f"<th>last failure</th><th>last error</th></tr>\n{rows}</table>\n"
    )


def _search_form(project: str) -> str:
    return (
        '<form method="get" action="/" role="search">'
        '<label for="project">Which build of</label>'
        f'<input id="project" name="project" value="{escape(project)}" '
        f'maxlength="{MAX_PROJECT_CHARS}" placeholder="project name" required>'
        '<button type="submit">Show builds</button></form>\n'
    )


def _search_results(search: Mapping[str, Any]) -> str:
    if search.get("error"):
        return f'<p class="error" id="search-error">{escape(search["error"])}</p>\n'
    rows = []
    for row in search["profiles"]:
        name = escape(row["profile"] or "(this server's profile)")
        link = f'<a href="{escape(row["explain"])}">explain</a>'
        if row["error"]:
            rows.append(
                f'<tr><td><b>{name}</b></td><td colspan="3" class="error">'
                f"{escape(row['error'])}</td><td>{link}</td></tr>\n"
            )
        for release in row["releases"]:
            rows.append(
                f'<tr><td><b>{name}</b></td><td data-label="release">{escape(release["version"])}</td>'
                f'<td data-label="build"><b class="build">{escape(release["build"])}</b></td>'
                f"<td>{escape(release['reason'])}</td><td>{link}</td></tr>\n"
            )
    return (
        f'<h2 id="search">Builds of {escape(search["project"])}</h2>\n'
        '<table id="builds"><tr><th>profile</th><th>release</th><th>build</th><th>why</th><th></th></tr>\n'
        f"{''.join(rows)}</table>\n"
    )


def status_html(document: Mapping[str, Any]) -> bytes:
    """The status page (with a search's results when `document` has `search`)."""
    search = document.get("search")
    project = search["project"] if search else ""
    body = (
        "<h1>fitwheel serve</h1>\n"
        "<p>A resolving index: each profile's index lists, per release, the build that fits it."
        "</p>\n"
        + _search_form(project)
        + (_search_results(search) if search else "")
        + _profiles_table(document["profiles"])
        + _upstreams_table(document["upstreams"])
    )
    return _page("fitwheel serve", body)


def _release_html(release: Mapping[str, Any]) -> str:
    chosen = release["chosen"]
    if chosen is not None:
        label = f" (label <b>{escape(chosen['label'])}</b>)" if chosen["label"] else ""
        head = f"✓ <code>{escape(chosen['filename'])}</code>{label}: {escape(chosen['reason'])}"
    else:
        head = f"nothing: {escape(release['reason'])}"
    items = "".join(
        f"<li>✗ <code>{escape(r['filename'])}</code>: {escape(r['reason'])}</li>\n"
        for r in release["rejected"]
    )
    if release["rejected_not_shown"]:
        items += f"<li>… and {release['rejected_not_shown']} more</li>\n"
    return (
        f'<h2>{escape(release["version"])}</h2>\n<p class="chosen">{head}</p>\n<ul>\n{items}</ul>\n'
    )


def explain_html(document: Mapping[str, Any]) -> bytes:
    """One profile's explain view: per release the chosen file and why each other lost."""
    project, profile = document["project"], document["profile"] or "(this server's profile)"
    releases = "".join(_release_html(r) for r in document["releases"])
    if not document["releases"]:
        releases = f"<p>The page lists no file of {escape(project)}.</p>\n"
    if document["releases_not_shown"]:
        releases += f"<p>… and {document['releases_not_shown']} older releases.</p>\n"
    back = f"/?project={quote(project)}"
    body = (
        f"<h1>{escape(project)} for {escape(profile)}</h1>\n"
        f'<p>Served at <a href="{escape(document["index"])}"><code>'
        f"{escape(document['index'])}</code></a>; "
        f'<a href="{escape(back)}">every profile</a>.</p>\n{releases}'
    )
    return _page(f"{project} for {profile}", body)
