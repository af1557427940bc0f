"""PEP 691 content negotiation: which page format a client's `Accept` header asks for."""

from __future__ import annotations

from fitwheel.index.json_api import HTML_CONTENT_TYPE, JSON_CONTENT_TYPE

OFFERED = (JSON_CONTENT_TYPE, HTML_CONTENT_TYPE, "text/html")


def negotiate(accept: str) -> str | None:
    """The PEP 691 content type to answer with, or None when nothing acceptable is offered."""
    if not accept.strip():
        return "text/html"
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
        candidates = OFFERED if media in ("*/*", "application/*") else (media,)
        for candidate in candidates:
            if candidate in OFFERED and quality > 0:
                rank = (quality, -OFFERED.index(candidate))
                if chosen is None or rank > best:
                    best, chosen = rank, candidate
    return chosen
