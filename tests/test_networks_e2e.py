"""A user behind an HTTP proxy, with a private CA and keyring credentials, installs with
`fitwheel pip` / `fitwheel uv`: real nginx over TLS with basic auth, a real tinyproxy that
tunnels with CONNECT, a real keyring backend (keyrings.alt's plaintext file), real installers
into real venvs. No part is simulated; nothing leaves 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.cli import fitwheel
from helpers.forward_proxy import ForwardProxy, requires_tinyproxy, start_tinyproxy
from helpers.nginx import (
    DOCUMENTED_CONFIG,
    basic_auth_site,
    free_port,
    requires_nginx,
    start_nginx,
)
from helpers.serve_fixtures import EXPECTED_TORCH, OVERRIDES, build_index, clean_env
from helpers.venvs import fresh_venv, installed_label

pytestmark = [requires_nginx, requires_tinyproxy, pytest.mark.slow, pytest.mark.e2e]

USER, PASSWORD = "alice", "s3cret-in-keyring"
# Variables that name a CA bundle or a proxy on the machine running the tests: each test
# says exactly which it sets.
_NETWORK_VARIABLES = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)


@dataclass(frozen=True)
class PrivateIndex:
    url: str
    """The index URL a user gives: https, with the user name only (the password is in the
    keyring)."""
    host: str
    ca: Path
    proxy: ForwardProxy
    keyring_home: Path
    access_log: Path
    out: Path
    """The index folder nginx serves."""
    tls: tuple[Path, Path]
    """nginx's certificate chain and key."""


def _keyring_env(home: Path) -> dict[str, str]:
    return {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(home),
    }


def _store_password(home: Path, service: str, password: str) -> None:
    """Store the password with keyring's own API in a separate process, as `keyring set` does."""
    code = "import keyring, sys; keyring.set_password(sys.argv[1], sys.argv[2], sys.argv[3])"
    subprocess.run(
        [sys.executable, "-c", code, service, USER, password],
        env={**clean_env(home), **_keyring_env(home)},
        check=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def private_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateIndex]:
    import trustme

    root = tmp_path_factory.mktemp("private")
    out = build_index(root)
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    chain, key, ca_file = root / "server.pem", root / "server.key", root / "ca.pem"
    server.private_key_pem.write_to_path(str(key))
    chain.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    ca.cert_pem.write_to_path(str(ca_file))
    site = basic_auth_site(root, USER, PASSWORD)
    with (
        start_nginx(out, root, site_config=site, tls=(chain, key)) as nginx,
        start_tinyproxy(root) as proxy,
    ):
        host = nginx.url.removeprefix("https://").rstrip("/")
        keyring_home = root / "keyring"
        keyring_home.mkdir()
        _store_password(keyring_home, host, PASSWORD)
        yield PrivateIndex(
            url=f"https://{USER}@{host}/",
            host=host,
            ca=ca_file,
            proxy=proxy,
            keyring_home=keyring_home,
            access_log=nginx.access_log,
            out=out,
            tls=(chain, key),
        )


def _env(index: PrivateIndex, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = clean_env(tmp_path, OVERRIDES["ampere_cu128"])
    env = {k: v for k, v in env.items() if k not in _NETWORK_VARIABLES}
    env.update(_keyring_env(index.keyring_home))
    env.update(HTTPS_PROXY=index.proxy.url, SSL_CERT_FILE=str(index.ca))
    env.update(extra)
    return env


def _install(
    installer: str, index: PrivateIndex, python: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    packages = ("visionlike", "fastmath")
    if installer == "pip":
        args = ["pip", "--python", str(python), "install", "-i", index.url, *packages]
    else:
        args = ["uv", "pip", "install", "--python", str(python), "-i", index.url, *packages]
    return fitwheel(*args, env=env, timeout=240)


def _last_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("fitwheel: error:")]
    assert lines, result.stdout + result.stderr
    return lines[-1]


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_installs_the_right_build_through_the_proxy_with_the_private_ca_and_keyring(
    private_index: PrivateIndex, tmp_path: Path, installer: str
) -> None:
    python = fresh_venv(tmp_path / "venv")
    logged = private_index.proxy.log_size()
    result = _install(installer, private_index, python, _env(private_index, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_label(python, "torchlike") == EXPECTED_TORCH["ampere_cu128"]
    # The upstream requests were tunnelled by the proxy, and logged in with the keyring's
    # password (nginx answers 401 to anything else, and the proxy cannot see inside TLS).
    assert private_index.proxy.connects_to(private_index.host, since=logged)
    assert PASSWORD not in result.stdout + result.stderr


def test_without_the_ca_the_certificate_is_not_trusted(
    private_index: PrivateIndex, tmp_path: Path
) -> None:
    env = _env(private_index, tmp_path)
    del env["SSL_CERT_FILE"]
    python = fresh_venv(tmp_path / "venv")
    result = _install("pip", private_index, python, env)
    assert result.returncode != 0
    line = _last_error(result)
    assert f"https://{private_index.host}/visionlike/: certificate not trusted (" in line, line
    assert "pass --cert FILE or set SSL_CERT_FILE" in line
    assert "aiohttp" not in result.stderr and "ClientConnector" not in result.stderr


def test_the_ca_given_with_cert_is_trusted_too(private_index: PrivateIndex, tmp_path: Path) -> None:
    env = _env(private_index, tmp_path)
    del env["SSL_CERT_FILE"]
    args = [
        "explain",
        "visionlike",
        "--index-url",
        private_index.url,
        "--cert",
        str(private_index.ca),
    ]
    result = fitwheel(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert "visionlike-0.25.0" in result.stdout


def test_a_wrong_password_is_a_401_line_naming_the_host_and_the_keyring(
    private_index: PrivateIndex, tmp_path: Path
) -> None:
    home = tmp_path / "keyring"
    home.mkdir()
    _store_password(home, private_index.host, "wrong")
    env = _env(private_index, tmp_path, XDG_DATA_HOME=str(home))
    python = fresh_venv(tmp_path / "venv")
    result = _install("pip", private_index, python, env)
    assert result.returncode != 0
    line = _last_error(result)
    assert f"HTTP 401 Unauthorized: {private_index.host} refused the login from the keyring" in (
        line
    ), line
    assert "--keyring-provider" in line
    assert "wrong" not in result.stderr


def test_without_a_keyring_the_401_line_says_where_a_login_goes(
    private_index: PrivateIndex, tmp_path: Path
) -> None:
    args = ["explain", "visionlike", "--index-url", private_index.url]
    result = fitwheel(*args, "--keyring-provider", "disabled", env=_env(private_index, tmp_path))
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert f"{private_index.host} refused the login from the URL" in line, line


def test_no_proxy_host_and_port_goes_around_a_dead_proxy(
    private_index: PrivateIndex, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    env = _env(private_index, tmp_path, HTTPS_PROXY=dead)
    args = ["explain", "visionlike", "--index-url", private_index.url]
    stopped = fitwheel(*args, "--retries", "0", env=env)
    assert stopped.returncode == 2
    line = stopped.stderr.strip().splitlines()[-1]
    assert f"cannot connect to the proxy {dead} (connection refused" in line, line
    assert "NO_PROXY" in line
    around = fitwheel(*args, env={**env, "NO_PROXY": f"example.org,{private_index.host}"})
    assert around.returncode == 0, around.stderr
    assert "visionlike-0.25.0" in around.stdout


def test_a_proxy_that_wants_a_login_gets_the_one_in_its_url(
    private_index: PrivateIndex, tmp_path: Path
) -> None:
    args = ["explain", "visionlike", "--index-url", private_index.url]
    with start_tinyproxy(tmp_path, login=("proxyuser", "proxy-pw")) as proxy:
        address = proxy.url.removeprefix("http://")
        logged_in = fitwheel(*args, "--proxy", f"proxyuser:proxy-pw@{address}",
                             env=_env(private_index, tmp_path))  # fmt: skip
        refused = fitwheel(*args, env=_env(private_index, tmp_path, HTTPS_PROXY=proxy.url))
        assert proxy.connects_to(private_index.host)
    assert logged_in.returncode == 0, logged_in.stderr
    assert "visionlike-0.25.0" in logged_in.stdout
    assert refused.returncode == 2
    line = refused.stderr.strip().splitlines()[-1]
    assert f"/visionlike/: the proxy {proxy.url} wants a login (give it in the proxy URL): " in (
        line
    ), line
    assert "HTTP 407" in line


def test_concurrent_401s_of_one_index_ask_the_keyring_once_and_all_pass(
    private_index: PrivateIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from fitwheel.index.client import ClientSettings, IndexClient
    from fitwheel.index.network import NetworkOptions

    # The `keyring` command of the test extras, reading the module's keyring file.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    for name, value in _keyring_env(private_index.keyring_home).items():
        monkeypatch.setenv(name, value)
    network = NetworkOptions(cert=str(private_index.ca), keyring_provider="subprocess")
    projects = ("visionlike", "fastmath", "torchlike")

    async def fetch() -> list[str]:
        async with IndexClient(ClientSettings(network=network)) as client:
            pages = await asyncio.gather(
                *(client.project_page(private_index.url, p) for p in projects)
            )
            return [page.name for page in pages]

    assert asyncio.run(fetch()) == list(projects)


def test_a_host_that_asks_for_a_client_certificate_gets_the_one_given(
    private_index: PrivateIndex, tmp_path: Path
) -> None:
    import trustme

    # A second nginx over the same index that admits only clients with a certificate of the
    # private CA (and no login: the certificate is the credential here).
    ca = trustme.CA()
    (tmp_path / "clients.pem").write_bytes(ca.cert_pem.bytes())
    client = tmp_path / "client.pem"
    ca.issue_cert("fitwheel@example.org").private_key_and_cert_chain_pem.write_to_path(str(client))
    site = DOCUMENTED_CONFIG.read_text().replace(
        "    root /srv/simple;\n",
        f"    root /srv/simple;\n    ssl_client_certificate {tmp_path / 'clients.pem'};\n"
        "    ssl_verify_client on;\n",
    )
    with start_nginx(private_index.out, tmp_path, site_config=site, tls=private_index.tls) as nginx:
        args = ["explain", "visionlike", "--index-url", nginx.url]
        env = _env(private_index, tmp_path)
        admitted = fitwheel(*args, "--client-cert", str(client), env=env)
        refused = fitwheel(*args, "--retries", "0", env=env)
    assert admitted.returncode == 0, admitted.stderr
    assert "visionlike-0.25.0" in admitted.stdout
    assert refused.returncode == 2
    line = refused.stderr.strip().splitlines()[-1]
    assert line == (
        f"fitwheel: error: {nginx.url}visionlike/: HTTP 400 Bad Request; if the host wants a "
        "client certificate, pass --client-cert FILE"
    ), line
