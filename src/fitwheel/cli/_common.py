"""Helpers shared by the command modules (argument types, output)."""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def add_format_option(parser: Any) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="output for people (text, the default) or programs (json)",
    )


def add_family_option(parser: Any) -> None:
    parser.add_argument(
        "--index-family",
        action="append",
        default=[],
        metavar="NAME[=URL]",
        help="take the family's projects from its per-accelerator indexes, choosing the "
        "build that fits (NAME: built-in 'pytorch' or a family TOML file; URL: the folder "
        "holding the members, e.g. cpu/ and cu126/); repeatable; default: "
        "$FITWHEEL_INDEX_FAMILIES",
    )


def add_network_options(parser: Any) -> None:
    """--cert, --client-cert, --proxy and --keyring-provider (see docs/networks.md)."""
    from fitwheel.index.network import KEYRING_PROVIDERS

    group = parser.add_argument_group("network (see docs/networks.md)")
    group.add_argument(
        "--cert",
        metavar="FILE",
        help="CA bundle (PEM file or folder) to verify HTTPS hosts with, instead of the "
        "system trust store; default: $SSL_CERT_FILE, $REQUESTS_CA_BUNDLE, $CURL_CA_BUNDLE "
        "or $PIP_CERT",
    )
    group.add_argument(
        "--client-cert",
        metavar="FILE",
        help="client certificate for HTTPS hosts: one PEM file with the certificate and its "
        "private key",
    )
    group.add_argument(
        "--proxy",
        metavar="URL",
        help="HTTP proxy for every request, http://[USER:PASSWORD@]HOST:PORT (default: "
        "$HTTPS_PROXY / $HTTP_PROXY / $ALL_PROXY); hosts in $NO_PROXY are reached directly",
    )
    group.add_argument(
        "--keyring-provider",
        choices=KEYRING_PROVIDERS,
        default=None,
        help="where to find a login when an index answers 401: the keyring Python package "
        "(import), the keyring command (subprocess), either (auto, the default) or nowhere "
        "(disabled)",
    )


def network_options(args: Any) -> Any:
    """The `NetworkOptions` of the command line and the environment, checked (a bad CA
    bundle or client certificate fails here, before any request)."""
    import os

    from fitwheel.index.network import NetworkOptions

    options = NetworkOptions.from_environment(
        os.environ,
        cert=args.cert,
        client_cert=args.client_cert,
        proxy=args.proxy,
        keyring_provider=args.keyring_provider or os.environ.get("PIP_KEYRING_PROVIDER"),
    )
    options.ssl_context()
    return options


def url_type(*, local: bool = False) -> Any:
    """An argparse `type` accepting an http(s) URL with a host (and, when `local`, a file:
    URL or an existing file or folder); anything else is a usage error (argparse names the
    option)."""
    import argparse
    import os
    from urllib.parse import urlsplit

    def check(text: str) -> str:
        parts = urlsplit(text)
        if parts.scheme in ("http", "https"):
            try:
                parts.port  # noqa: B018 - raises on a bad port
            except ValueError:
                raise argparse.ArgumentTypeError(f"{text!r}: the port is not a number") from None
            if parts.hostname:
                return text
            raise argparse.ArgumentTypeError(f"{text!r}: the URL has no host")
        if local and (parts.scheme == "file" or (not parts.scheme and os.path.exists(text))):
            return text
        wanted = "an http(s):// URL" + (" or an existing folder or file" if local else "")
        raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}")

    return check
