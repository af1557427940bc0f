"""Who a shared proxy is, proven: `GET /-/fitwheel?nonce=HEX` and `GET /-/fitwheel/since/N`.

A shared proxy outlives the run that started it, and its port may later be taken by another
program, or by another user's. So a wrapper trusts it only when it answers a fresh nonce with
an HMAC under the secret that only its state file (readable by its user alone) holds. The
answer also gives its key (what it serves), its process id, how long it has been idle and the
number of its last event; `/since/N` gives what it handed out after event N (`serve.record`).
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from fitwheel._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from aiohttp import web

    from fitwheel.serve.idle import Activity
    from fitwheel.serve.record import Record

PATH = "/-/fitwheel"


@dataclass(frozen=True)
class Identity:
    """What a shared proxy serves (`key`) and the secret it proves it holds (hex)."""

    key: str
    secret: str


def proof(secret: str, nonce: str) -> str:
    """The answer to `nonce` that only a holder of `secret` can give."""
    return hmac.new(secret.encode(), nonce.encode(), "sha256").hexdigest()


def add_identity_routes(
    app: web.Application, identity: Identity, record: Record, activity: Activity
) -> None:
    """Answer `/-/fitwheel` (who, with proof) and `/-/fitwheel/since/N` (what since N)."""
    from aiohttp import web

    async def who(request: web.Request) -> web.StreamResponse:
        nonce = request.query.get("nonce", "")[:128]
        return web.json_response(
            {
                "fitwheel": __version__,
                "key": identity.key,
                "pid": os.getpid(),
                "proof": proof(identity.secret, nonce) if nonce else None,
                "seq": record.seq,
                "idle": round(activity.idle_before_this_request(), 3),
            }
        )

    async def since(request: web.Request) -> web.StreamResponse:
        try:
            number = int(request.match_info["seq"])
        except ValueError:
            raise web.HTTPNotFound(text="fitwheel serve: /since/N takes a number\n") from None
        events = record.since(number)
        return web.json_response(
            {
                "seq": events.seq,
                "chosen": [build.as_dict() for build in events.chosen],
                "offered": {
                    project: {version: build.as_dict() for version, build in builds.items()}
                    for project, builds in events.offered.items()
                },
                "failure": events.failure,
            }
        )

    app.router.add_get(PATH, who)
    app.router.add_get(PATH + "/since/{seq}", since)
