"""Network options: which proxy a URL goes through, which CA bundle is trusted, where logins
come from, which indexes are the default, and how bad options are reported. The end-to-end
run (TLS, a real proxy, a real keyring, real installers) is in test_networks_e2e.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fitwheel.errors import InvalidNetworkOption
from fitwheel.index.credentials import Credentials
from fitwheel.index.keyrings import lookup
from fitwheel.index.network import NetworkOptions
from fitwheel.installers import pip, uv
from fitwheel.installers.defaults import PYPI, user_indexes
from helpers.cli import fitwheel
from helpers.processes import interrupt
from wheelmaker import make_wheel

PROXY = "http://proxy.corp:3128"
NO_CONFIG = {"PIP_CONFIG_FILE": os.devnull, "HOME": "/nonexistent", "UV_NO_CONFIG": "1"}


def options(**env: str) -> NetworkOptions:
    return NetworkOptions.from_environment(env)


# --- proxies ------------------------------------------------------------------------------


def test_the_proxy_of_each_scheme_comes_from_the_environment() -> None:
    network = options(HTTPS_PROXY=PROXY, http_proxy="http://plain:80")
    assert network.proxy_for("https://pypi.org/simple/") == PROXY
    assert network.proxy_for("http://mirror/simple/") == "http://plain:80"
    assert options(ALL_PROXY=PROXY).proxy_for("https://pypi.org/") == PROXY
    assert options().proxy_for("https://pypi.org/") is None
    # Lower case first, as curl and Python's urllib read them.
    both = options(https_proxy=PROXY, HTTPS_PROXY="http://other:1")
    assert both.proxy_for("https://pypi.org/") == PROXY


@pytest.mark.parametrize(
    ("no_proxy", "url", "direct"),
    [
        ("example.com", "https://example.com/simple/", True),
        ("example.com", "https://pkgs.example.com/simple/", True),
        (".example.com", "https://pkgs.example.com/simple/", True),
        ("*.example.com", "https://pkgs.example.com/simple/", True),
        ("example.com", "https://notexample.com/simple/", False),
        ("example.com:8443", "https://example.com:8443/simple/", True),
        ("example.com:8443", "https://example.com/simple/", False),
        ("example.com:443", "https://example.com/simple/", True),
        ("10.0.0.0/8", "https://10.1.2.3/simple/", True),
        ("10.0.0.0/8", "https://11.1.2.3/simple/", False),
        ("10.0.0.0/8", "https://ten.example/simple/", False),
        ("127.0.0.1", "http://127.0.0.1:8000/simple/", True),
        ("::1", "http://[::1]:8000/simple/", True),
        ("[::1]:8000", "http://[::1]:8000/simple/", True),
        ("[::1]:8000", "http://[::1]:9000/simple/", False),
        ("fd00::/8", "http://[fd00::5]/simple/", True),
        ("*", "https://anything.example/", True),
        ("a.example, b.example", "https://b.example/", True),
        ("a.example b.example", "https://b.example/", True),
    ],
)
def test_no_proxy_entries(no_proxy: str, url: str, direct: bool) -> None:
    network = options(HTTPS_PROXY=PROXY, HTTP_PROXY=PROXY, NO_PROXY=no_proxy)
    assert network.proxy_for(url) == (None if direct else PROXY)


def test_a_given_proxy_beats_the_environment_and_no_proxy_still_holds() -> None:
    network = NetworkOptions.from_environment(
        {"HTTPS_PROXY": "http://env:1", "NO_PROXY": "internal.example"}, proxy="corp:3128"
    )
    # pip's --proxy takes HOST:PORT too: an http:// proxy.
    assert network.proxy_for("https://pypi.org/simple/") == "http://corp:3128"
    assert network.proxy_for("https://internal.example/simple/") is None


def test_the_proxy_login_goes_to_the_proxy_alone() -> None:
    network = options(HTTPS_PROXY="http://me:p%40ss@proxy.corp:3128")
    request = network.request_options("https://pypi.org/simple/")
    assert request["proxy"] == "http://proxy.corp:3128"
    assert request["proxy_headers"] == {"Proxy-Authorization": "Basic bWU6cEBzcw=="}  # me:p@ss


@pytest.mark.parametrize(
    ("proxy", "message"),
    [
        ("socks5://127.0.0.1:1080", "proxy socks5://127.0.0.1:1080: only http:// proxies"),
        ("https://proxy:3128", "proxy https://proxy:3128: only http:// proxies"),
        ("http://proxy:port", "proxy http://proxy:port: the port is not a number"),
        ("http://me:secret@:3128", "proxy http://:3128: not a proxy URL"),
    ],
)
def test_an_unusable_proxy_is_one_clear_error(proxy: str, message: str) -> None:
    with pytest.raises(InvalidNetworkOption, match="^" + message.replace(".", r"\.")):
        NetworkOptions(proxy=proxy)


def test_an_unusable_proxy_in_the_environment_fails_only_when_it_is_used() -> None:
    network = options(ALL_PROXY="socks5h://127.0.0.1:1080", NO_PROXY="127.0.0.1")
    assert network.proxy_for("http://127.0.0.1:8000/simple/") is None
    with pytest.raises(InvalidNetworkOption, match="only http:// proxies"):
        network.proxy_for("https://pypi.org/simple/")


def test_trusted_hosts_skip_certificate_checks_there_only() -> None:
    network = NetworkOptions(trusted_hosts=("mirror.local", "other:8443"))
    assert network.request_options("https://mirror.local/simple/") == {"ssl": False}
    assert network.request_options("https://other:8443/simple/") == {"ssl": False}
    assert network.request_options("https://other/simple/") == {}
    assert network.request_options("https://pypi.org/simple/") == {}


# --- certificates -------------------------------------------------------------------------


def test_the_ca_bundle_comes_from_cert_else_the_first_variable() -> None:
    env = {"PIP_CERT": "/pip.pem", "REQUESTS_CA_BUNDLE": "/requests.pem"}
    assert (options(**env).cert, options(**env).cert_source) == (
        "/requests.pem",
        "REQUESTS_CA_BUNDLE",
    )
    env["SSL_CERT_FILE"] = "/ssl.pem"
    assert options(**env).cert == "/ssl.pem"
    given = NetworkOptions.from_environment(env, cert="/given.pem")
    assert (given.cert, given.cert_source) == ("/given.pem", "--cert")
    assert options(PIP_CERT="/pip.pem").cert == "/pip.pem"
    assert options().cert is None


def test_a_ca_bundle_or_client_certificate_that_cannot_be_used_names_its_source(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(InvalidNetworkOption, match=f"^SSL_CERT_FILE {missing}: cannot use it"):
        options(SSL_CERT_FILE=str(missing)).ssl_context()
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(InvalidNetworkOption, match=f"^--client-cert {garbage}: cannot use it"):
        NetworkOptions(client_cert=str(garbage)).ssl_context()


def test_a_private_ca_and_a_client_certificate_load(tmp_path: Path) -> None:
    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client = ca.issue_cert("fitwheel@example.org")
    client.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.pem"))
    context = NetworkOptions(
        cert=str(tmp_path / "ca.pem"), client_cert=str(tmp_path / "client.pem")
    ).ssl_context()
    assert len(context.get_ca_certs()) == 1


# --- logins -------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_keyring_command_gives_the_password_for_the_url_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real `keyring` command (installed with the test extras) with a real file backend.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    subprocess.run(
        ["keyring", "set", "index.example:443", "alice"], input=b"pw\n", check=True, timeout=60
    )
    assert lookup(
        "subprocess", ["https://index.example/simple/", "index.example:443"], "alice"
    ) == (
        "alice",
        "pw",
    )
    # The command needs the user; without one (or with the keyring off) nothing is asked.
    assert lookup("subprocess", ["index.example:443"], None) is None
    assert lookup("disabled", ["index.example:443"], "alice") is None

    login = Credentials({}, keyring_provider="subprocess")
    url = login.learn("https://alice@index.example/simple/", index=True)
    assert login.source(url) == "the URL"
    assert login.from_keyring(url + "demo/")
    assert login.for_url("https://index.example/files/demo.whl") == ("alice", "pw")
    assert login.source(url) == "the keyring"
    # Asked once per origin; another origin never gets the login.
    assert not login.from_keyring(url)
    assert login.for_url("https://elsewhere.example/simple/") is None


def test_uv_named_indexes_take_their_login_from_uv_variables() -> None:
    env = {
        **NO_CONFIG,
        "UV_INDEX_INTERNAL_MIRROR_USERNAME": "bob",
        "UV_INDEX_INTERNAL_MIRROR_PASSWORD": "p@ss word",
    }
    args = ["pip", "install", "--index", "internal-mirror=https://mirror.example/simple/", "x"]
    planned = uv.plan(args, env)
    assert planned.upstreams[0] == "https://bob:p%40ss%20word@mirror.example/simple/"
    # A URL with its own login keeps it; unnamed indexes get none.
    assert uv.with_named_login("internal-mirror", "https://x:y@m/", env) == "https://x:y@m/"
    assert uv.plan(["pip", "install", "--index", "https://m/simple/", "x"], env).upstreams[0] == (
        "https://m/simple/"
    )


def test_uv_keyring_and_insecure_hosts_are_read() -> None:
    args = ["pip", "install", "--keyring-provider", "subprocess", "--allow-insecure-host", "m"]
    planned = uv.plan([*args, "x"], {**NO_CONFIG, "UV_INSECURE_HOST": "ignored"})
    assert (planned.keyring_provider, planned.insecure_hosts) == ("subprocess", ("m",))
    from_env = uv.plan(["pip", "install", "x"], {**NO_CONFIG, "UV_KEYRING_PROVIDER": "disabled"})
    assert from_env.keyring_provider == "disabled"


# --- pip's own settings -------------------------------------------------------------------


def test_pip_network_settings_come_from_its_command_line_else_its_configuration() -> None:
    env = {**NO_CONFIG, "PIP_CERT": "/env.pem", "PIP_TRUSTED_HOST": "a b"}
    args = ["--proxy", "corp:3128", "install", "--trusted-host=c", "--client-cert", "/me.pem", "x"]
    planned = pip.plan(args, env)
    assert planned.network == pip.PipNetwork(
        cert="/env.pem",
        client_cert="/me.pem",
        proxy="corp:3128",
        trusted_hosts=("a", "b", "c"),
    )
    assert "--proxy" not in planned.args and "corp:3128" not in planned.args
    command, child_env = pip.proxied_command(planned, "http://127.0.0.1:5000/simple/")
    # pip would send even the loopback request through --proxy: the proxy goes to pip's
    # environment instead, where NO_PROXY exempts the loopback proxy.
    assert "--proxy=" in command
    assert child_env["https_proxy"] == child_env["http_proxy"] == "corp:3128"
    assert child_env["no_proxy"].endswith("127.0.0.1,localhost")
    given = pip.plan(["install", "--cert", "/given.pem", "x"], env)
    assert given.network.cert == "/given.pem"


# --- default indexes ----------------------------------------------------------------------


def test_the_default_indexes_are_pips_else_uvs_else_pypi(tmp_path: Path) -> None:
    env = {**NO_CONFIG, "PIP_INDEX_URL": "https://a/simple/", "UV_DEFAULT_INDEX": "https://u/"}
    found = user_indexes({**env, "PIP_EXTRA_INDEX_URL": "https://b/ https://a/simple/"})
    assert found.urls == ("https://a/simple/", "https://b/")
    assert found.source == "pip's configuration"
    del env["PIP_INDEX_URL"]
    assert user_indexes(env, cwd=tmp_path).urls == ("https://u/",)
    conf = tmp_path / "pip.conf"
    conf.write_text("[install]\nindex-url = https://conf/simple/\n")
    assert user_indexes({**env, "PIP_CONFIG_FILE": str(conf)}).urls == ("https://conf/simple/",)
    assert user_indexes(NO_CONFIG, cwd=tmp_path).urls == (PYPI,)
    assert user_indexes(NO_CONFIG, cwd=tmp_path).source == "the default, PyPI"


@pytest.mark.slow
def test_explain_without_index_url_reads_pips_index(tmp_path: Path) -> None:
    make_wheel(tmp_path / "flat", "demo", "1.0")
    env = {**os.environ, **NO_CONFIG, "PIP_INDEX_URL": str(tmp_path / "flat")}
    result = fitwheel("explain", "demo", "--profile", _profile(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    assert "demo-1.0-py3-none-any.whl" in result.stdout


def _profile(tmp_path: Path) -> str:
    path = tmp_path / "profile.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FITWHEEL_")}
    path.write_text(fitwheel("detect", "--format", "json", env=env, check=True).stdout)
    return str(path)


# --- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "build", "s", "o", "--base-url", "not-a-url"], "argument --base-url: 'not-a-url' is not an http(s):// URL"),
        (["explain", "x", "--index-url", "not-a-url"], "argument --index-url: 'not-a-url' is not an http(s):// URL or an existing folder or file"),
        (["serve", "--upstream", "https://"], "argument --upstream: 'https://': the URL has no host"),
        (["serve", "--upstream", "http://h:port/"], "argument --upstream: 'http://h:port/': the port is not a number"),
        (["lock", "x", "--index-url", "ftp://h/"], "argument --index-url: 'ftp://h/' is not"),
        (["explain", "x", "--index-url", "http://h/", "--proxy", "socks5://h:1"], "fitwheel: error: proxy socks5://h:1: only http:// proxies"),
        (["explain", "x", "--index-url", "http://h/", "--cert", "/nonexistent.pem"], "fitwheel: error: --cert /nonexistent.pem: cannot use it as a CA bundle"),
        (["pip", "--proxy", "socks5://h:1", "install", "x"], "fitwheel: error: proxy socks5://h:1: only http:// proxies"),
    ],
)  # fmt: skip
def test_bad_network_options_are_one_line_naming_the_option(args: list[str], message: str) -> None:
    result = fitwheel(*args, env={**os.environ, **NO_CONFIG})
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_pip_reads_no_configuration_file_when_pip_config_file_is_the_null_device() -> None:
    # pip skips every file then, /etc/pip.conf included (its `cert = ...` too).
    assert pip.config_files({"PIP_CONFIG_FILE": os.devnull}, sys.prefix) == []
    assert Path("/etc/pip.conf") in pip.config_files({"HOME": "/nonexistent"}, sys.prefix)


def test_aiohttp_trust_env_would_miss_host_port_and_cidr_entries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Why fitwheel picks proxies itself: aiohttp's `trust_env` (the helper its sessions call)
    compares NO_PROXY with the bare host, so these two entries would not keep the requests
    away from the proxy; fitwheel's own rule does (test_no_proxy_entries)."""
    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "example.com:8443,10.0.0.0/8")
    for url in ("https://example.com:8443/simple/", "https://10.1.2.3/simple/"):
        proxy, _ = get_env_proxy_for_url(URL(url))
        assert str(proxy) == PROXY
        assert NetworkOptions.from_environment().proxy_for(url) is None


@pytest.mark.slow
def test_serve_without_upstream_serves_the_index_uv_is_set_up_for(tmp_path: Path) -> None:
    import time
    import urllib.request

    from helpers.nginx import free_port

    make_wheel(tmp_path / "flat", "demo", "1.0")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(NO_CONFIG, UV_DEFAULT_INDEX=str(tmp_path / "flat"))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fitwheel", "serve", "--port", str(port),
         "--profile", _profile(tmp_path)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        first = process.stderr.readline().strip()
        assert first == f"fitwheel serve: upstreams from uv's configuration: {tmp_path / 'flat'}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/simple/demo/") as reply:
                    page = reply.read().decode()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert "demo-1.0-py3-none-any.whl" in page
    finally:
        interrupt(process)
