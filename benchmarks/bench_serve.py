"""`fitwheel pip` / `fitwheel uv` against plain pip / uv, and pages per second from `fitwheel serve`.

Standalone: `python benchmarks/bench_serve.py` (or `python benchmarks/run.py serve`). It builds
the test wheelhouse (20 packages to install: `torchlike`, `visionlike`, `fastmath`, their plain
dependencies and 15 filler packages), indexes it with `fitwheel index build`, serves it with
nginx on 127.0.0.1, and measures in the same run:

1. wall time of installing the 20 packages into a fresh venv, `fitwheel pip install` vs
   `pip install --index-url <nginx>` (target: at most 1.15x), then the same for uv with a cold
   cache each time (target: at most 1.5x); medians of alternating runs. Each run has a cache
   folder of its own, so each `fitwheel` run starts the shared proxy (stopped after it); the
   warm case is `bench_wrappers.py`;
2. project pages per second from a warm `python -m fitwheel serve` under a loopback
   aiohttp load generator, next to nginx's static pages as the baseline;
3. file downloads per second through the proxy (the variant wheels it streams from nginx,
   under their `/files/PROJECT/SHA256/NAME` URLs) against nginx serving the same files
   directly, with the same aiohttp load generator (16 connections, keep-alive) in the same
   run (target: at least 0.8x).

`python benchmarks/bench_serve.py files` runs only the third.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from helpers.nginx import free_port, start_nginx  # noqa: E402
from helpers.serve_fixtures import OVERRIDES, build_index, clean_env  # noqa: E402
from helpers.shared import stop_shared_proxies  # noqa: E402

ROUNDS = 5
FILLERS = 15
PACKAGES = ["torchlike", "visionlike", "fastmath", *(f"filler-{n:02d}" for n in range(FILLERS))]
JSON = "application/vnd.pypi.simple.v1+json"


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return elapsed


def install_commands(kind: str, python: Path, index: str) -> dict[str, list[str]]:
    fitwheel = [sys.executable, "-m", "fitwheel"]
    if kind == "pip":
        args = ["--python", str(python), "install", "-i", index, *PACKAGES]
        return {
            "plain": [sys.executable, "-m", "pip", *args],
            "fitwheel": [*fitwheel, "pip", *args],
        }
    from uv import find_uv_bin

    args = ["pip", "install", "--python", str(python), "-i", index, *PACKAGES]
    return {"plain": [str(find_uv_bin()), *args], "fitwheel": [*fitwheel, "uv", *args]}


def compare_installs(kind: str, index: str, work: Path) -> float:
    times: dict[str, list[float]] = {"plain": [], "fitwheel": []}
    for round_ in range(ROUNDS):
        for variant in ("plain", "fitwheel") if round_ % 2 == 0 else ("fitwheel", "plain"):
            run_dir = work / f"{kind}-{variant}-{round_}"
            venv = run_dir / "venv"
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
            env = clean_env(run_dir, OVERRIDES["ampere_cu128"])
            command = install_commands(kind, venv / "bin" / "python", index)[variant]
            try:
                times[variant].append(timed(command, env))
            finally:
                stop_shared_proxies(Path(env["FITWHEEL_CACHE_DIR"]))
    plain, ours = statistics.median(times["plain"]), statistics.median(times["fitwheel"])
    ratio = ours / plain
    best = min(times["fitwheel"]) / min(times["plain"])
    print(
        f"install 20 packages with {kind}: plain {plain:.2f} s, fitwheel {ours:.2f} s, "
        f"ratio {ratio:.2f}x (median of {ROUNDS}; best-of-{ROUNDS} ratio {best:.2f}x)",
        flush=True,
    )
    rounds = zip(times["plain"], times["fitwheel"], strict=True)
    print("  rounds (plain/fitwheel s): " + ", ".join(f"{p:.2f}/{f:.2f}" for p, f in rounds))
    print(f"  load average at the end: {os.getloadavg()[0]:.2f}", flush=True)
    return ratio


async def _load(url_for: list[str], seconds: float, concurrency: int, accept: str = JSON) -> int:
    import aiohttp

    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession, offset: int) -> None:
        nonlocal done
        position = offset
        while time.perf_counter() < deadline:
            async with session.get(url_for[position % len(url_for)]) as reply:
                await reply.read()
                if reply.status != 200:
                    raise SystemExit(f"HTTP {reply.status} from {reply.url}")
            done += 1
            position += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers={"Accept": accept}) as session:
        await asyncio.gather(*(worker(session, n) for n in range(concurrency)))
    return done


def pages_per_second(base: str, seconds: float = 5.0, concurrency: int = 16) -> float:
    projects = ["torchlike", "visionlike", "fastmath", "typing-shim", "pillow-shim"]
    projects += [f"filler-{n:02d}" for n in range(FILLERS)]
    urls = [f"{base}{p}/" for p in projects]
    asyncio.run(_load(urls, 1.0, concurrency))  # warm
    return asyncio.run(_load(urls, seconds, concurrency)) / seconds


@contextmanager
def serve_process(nginx_url: str, work: Path) -> Iterator[str]:
    """`python -m fitwheel serve` (a separate process) in front of nginx; yields /simple/'s URL."""
    env = clean_env(work, OVERRIDES["ampere_cu128"])
    port = free_port()
    command = [sys.executable, "-m", "fitwheel", "serve", "--upstream", nginx_url]
    server = subprocess.Popen(
        [*command, "--port", str(port), "-q"], stderr=subprocess.PIPE, env={**os.environ, **env}
    )
    try:
        assert server.stderr is not None
        server.stderr.readline()  # "fitwheel serve: URL" once it listens
        yield f"http://127.0.0.1:{port}/simple/"
    finally:
        server.terminate()
        server.wait(timeout=30)


def warm_server_pages(nginx_url: str, work: Path) -> float:
    """Pages/s from `python -m fitwheel serve`, after one warm-up pass."""
    with serve_process(nginx_url, work) as simple:
        return pages_per_second(simple)


def streamed_files(simple: str, nginx_url: str) -> tuple[list[str], list[str]]:
    """The files the proxy streams for its profile, and the same upstream files on nginx."""
    import json
    import urllib.request
    from urllib.parse import urljoin

    proxied, direct = [], []
    for project in ("torchlike", "visionlike", "fastmath"):
        request = urllib.request.Request(f"{simple}{project}/", headers={"Accept": JSON})
        with urllib.request.urlopen(request, timeout=30) as reply:
            files = json.load(reply)["files"]
        for entry in files:
            if "/files/" not in entry["url"]:
                continue
            proxied.append(urljoin(f"{simple}{project}/", entry["url"]))
            digest = entry["hashes"]["sha256"]
            with urllib.request.urlopen(f"{nginx_url}{project}/", timeout=30) as reply:
                page = reply.read().decode()
            names = [n.split('"')[0] for n in page.split('href="')[1:]]
            upstream = [urljoin(f"{nginx_url}{project}/", n.split("#")[0]) for n in names]
            matching = [u for u in upstream if u.endswith(".whl") and _sha256(u) == digest]
            direct.extend(matching[:1])
    if not proxied or len(proxied) != len(direct):
        raise SystemExit(f"streamed files not found: {proxied} vs {direct}")
    return proxied, direct


def _sha256(url: str) -> str:
    import hashlib
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as reply:
        return hashlib.sha256(reply.read()).hexdigest()


def compare_file_downloads(nginx_url: str, work: Path, seconds: float = 5.0) -> float:
    """Files/s through the proxy and from nginx directly (same files, same client, same run),
    alternating twice; the ratio of the medians."""
    rates: dict[str, list[float]] = {"proxy": [], "nginx": []}
    with serve_process(nginx_url, work) as simple:
        proxied, direct = streamed_files(simple, nginx_url)
        urls = {"proxy": proxied, "nginx": direct}
        for kind in ("proxy", "nginx"):
            asyncio.run(_load(urls[kind], 1.0, 16, accept="*/*"))  # warm
        for round_ in range(ROUNDS):
            for kind in ("proxy", "nginx") if round_ % 2 == 0 else ("nginx", "proxy"):
                done = asyncio.run(_load(urls[kind], seconds, 16, accept="*/*"))
                rates[kind].append(done / seconds)
    ours, static = statistics.median(rates["proxy"]), statistics.median(rates["nginx"])
    ratio = ours / static
    print(
        f"file downloads/s: through fitwheel serve {ours:.0f}, nginx direct {static:.0f} "
        f"(ratio {ratio:.2f}, target >= 0.8: {'ok' if ratio >= 0.8 else 'MISSED'}; "
        f"{len(proxied)} wheels of {_size(direct)} each, 16 keep-alive connections of one "
        f"aiohttp client for {seconds:g} s, median of {ROUNDS} alternating rounds)",
        flush=True,
    )
    rounds = zip(rates["proxy"], rates["nginx"], strict=True)
    print("  rounds (proxy/nginx files/s): " + ", ".join(f"{p:.0f}/{n:.0f}" for p, n in rounds))
    return ratio


def _size(urls: list[str]) -> str:
    import urllib.request

    sizes = []
    for url in urls:
        with urllib.request.urlopen(url, timeout=30) as reply:
            sizes.append(len(reply.read()))
    return f"{min(sizes)}-{max(sizes)} bytes"


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        out = build_index(work / "index", fillers=FILLERS)
        with start_nginx(out, work) as nginx:
            files_ratio = compare_file_downloads(nginx.url, work)
            if argv == ["files"]:
                return 0 if files_ratio >= 0.8 else 1
            pip_ratio = compare_installs("pip", nginx.url, work)
            uv_ratio = compare_installs("uv", nginx.url, work)
            ours = warm_server_pages(nginx.url, work)
            static = pages_per_second(nginx.url)
    print(
        f"project pages/s: warm fitwheel serve {ours:.0f}, nginx static files {static:.0f} "
        f"(ratio {ours / static:.2f}; 16 concurrent loopback clients for 5 s, the load "
        "generator on the same 2 cores)"
    )
    print(
        f"targets: pip ratio <= 1.15 ({'ok' if pip_ratio <= 1.15 else 'MISSED'}), "
        f"uv ratio <= 1.5 ({'ok' if uv_ratio <= 1.5 else 'MISSED'}: a fixed ~0.3 s to start "
        "Python, detect and import aiohttp, against uv's whole install)"
    )
    return 0 if pip_ratio <= 1.15 and files_ratio >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
