"""Content negotiation (PEP 691's for index pages): which format a client's `Accept` asks for."""

from __future__ import annotations

from fitwheel.index.json_api import HTML_CONTENT_TYPE, JSON_CONTENT_TYPE

OFFERED = (JSON_CONTENT_TYPE, HTML_CONTENT_TYPE, "text/html")


def negotiate(accept: str, offered: tuple[str, ...] = OFFERED) -> str | None:
    """The content type of `offered` to answer with (PEP 691's by default; on a tie the one
    offered first), or None when nothing acceptable is offered."""
    if not accept.strip():
        return "text/html" if "text/html" in offered else offered[0]
    best: tuple[float, int] = (0.0, 0)
    chosen: str | None = None
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media == "*/*":
            candidates = offered
        elif media.endswith("/*"):
            candidates = tuple(o for o in offered if o.startswith(media[:-1]))
        else:
            candidates = (media,)
        for candidate in candidates:
            if candidate in offered and quality > 0:
                rank = (quality, -offered.index(candidate))
                if chosen is None or rank > best:
                    best, chosen = rank, candidate
    return chosen
