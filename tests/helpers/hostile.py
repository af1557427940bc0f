"""A fault- and attack-injecting upstream index: a small aiohttp app on 127.0.0.1.

Every project is one release with a single `null` variant wheel (so the proxy streams it under
its label-less name) whose link is the attack:

- `fileleak`: the wheel's link is `file://` + `secret` (a file of the proxy's machine);
- `otherhost`: the wheel lives on `elsewhere` (another origin), as does `otherplain`'s plain
  wheel (whose link the proxy would hand to clients);
- `loop`: the wheel redirects to itself, forever;
- `bounce`: the wheel redirects to `elsewhere`;
- `hang`: the wheel's request is accepted and never answered;
- `good`: an honest wheel;
- `huge`, `huge1`, `huge2`...: the project page itself is an endless chunked body.

`Hostile.paths` records every request path the upstream saw (raw, undecoded).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from fitwheel.detect import detect
from fitwheel.profile import Profile
from fitwheel.serve.server import BackgroundServer

VARIANTS = json.dumps(
    {
        "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
        "default-priorities": {"namespace": ["nvidia"]},
        "variants": {"null": {}},
    }
)
GOOD_BYTES = b"PK\x05\x06" + b"\x00" * 18  # what the honest upstream serves (not checked here)
PROFILE = '[variants.x86_64]\nlevel = ["v1"]\n'


def cpu_profile(folder: Path) -> Profile:
    """`PROFILE` written to `folder/cpu.toml` and read as `fitwheel serve --profile` reads it
    (this interpreter, these variants)."""
    path = folder / "cpu.toml"
    path.write_text(PROFILE)
    return detect(profile=str(path))


def _page(project: str, wheel_href: str, extra: str = "") -> str:
    wheel = f"{project}-1.0-py3-none-any-null.whl"
    return (
        f'<a href="{wheel_href}">{wheel}</a>\n'
        f'<a href="{project}-1.0-variants.json">{project}-1.0-variants.json</a>\n{extra}'
    )


@dataclass
class Hostile:
    url: str
    """The upstream's simple index URL (ends with `/simple/`)."""
    elsewhere: str
    """Another origin's base URL."""
    paths: list[str] = field(default_factory=list)
    elsewhere_hits: list[str] = field(default_factory=list)


def _elsewhere_app(hits: list[str]) -> web.Application:
    async def anything(request: web.Request) -> web.Response:
        hits.append(request.raw_path)
        return web.Response(body=GOOD_BYTES)

    app = web.Application()
    app.router.add_get("/{tail:.*}", anything)
    return app


def _upstream_app(state: Hostile, secret: Path, huge_chunk: int) -> web.Application:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        state.paths.append(request.raw_path)
        return await handler(request)

    def wheel_name(project: str) -> str:
        return f"{project}-1.0-py3-none-any-null.whl"

    pages = {
        "fileleak": _page("fileleak", secret.as_uri()),
        "otherhost": _page("otherhost", f"{state.elsewhere}/otherhost/{wheel_name('otherhost')}"),
        "otherplain": _page(
            "otherplain",
            wheel_name("otherplain"),
            f'<a href="{state.elsewhere}/x/otherplain-1.0-py3-none-any.whl">'
            "otherplain-1.0-py3-none-any.whl</a>\n",
        ),
        "loop": _page("loop", wheel_name("loop")),
        "bounce": _page("bounce", wheel_name("bounce")),
        "hang": _page("hang", wheel_name("hang")),
        "good": _page("good", wheel_name("good")),
    }

    async def page(request: web.Request) -> web.StreamResponse:
        project = request.match_info["project"]
        if project.startswith("huge"):
            response = web.StreamResponse(headers={"Content-Type": "text/html"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            chunk = b"<!-- " + b"x" * (huge_chunk - 9) + b" -->"
            try:
                while True:
                    await response.write(chunk)
            except (ConnectionError, RuntimeError):
                return response
        if project not in pages:
            raise web.HTTPNotFound()
        return web.Response(text=pages[project], content_type="text/html")

    async def file(request: web.Request) -> web.StreamResponse:
        project, name = request.match_info["project"], request.match_info["name"]
        if name.endswith("-variants.json"):
            return web.Response(text=VARIANTS, content_type="application/json")
        redirects = {"loop": request.path, "bounce": f"{state.elsewhere}/bounced/{name}"}
        if project in redirects:
            raise web.HTTPFound(redirects[project])
        if project == "hang":
            await asyncio.sleep(3600)
        return web.Response(body=GOOD_BYTES)

    app = web.Application(middlewares=[record])
    app.router.add_get("/simple/{project}/", page)
    app.router.add_get("/simple/{project}/{name}", file)
    return app


@contextmanager
def hostile_upstream(secret: Path, *, huge_chunk: int = 1 << 16) -> Iterator[Hostile]:
    """The hostile upstream and its `elsewhere` origin, both running for the block."""
    hits: list[str] = []
    with BackgroundServer(lambda: _elsewhere_app(hits)) as other:
        # The same server under another host name: another origin to the proxy.
        elsewhere = other.url.replace("127.0.0.1", "localhost")
        state = Hostile(url="", elsewhere=elsewhere, elsewhere_hits=hits)
        server = BackgroundServer(lambda: _upstream_app(state, secret, huge_chunk))
        with server:
            state.url = server.url + "/simple/"
            yield state
