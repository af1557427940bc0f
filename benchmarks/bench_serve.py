"""`fitwheel pip` / `fitwheel uv` against plain pip / uv, and pages per second from `fitwheel serve`.

Standalone: `python benchmarks/bench_serve.py` (or `python benchmarks/run.py serve`). It builds
the test wheelhouse (20 packages to install: `torchlike`, `visionlike`, `fastmath`, their plain
dependencies and 15 filler packages), indexes it with `fitwheel index build`, serves it with
nginx on 127.0.0.1, and measures in the same run:

1. wall time of installing the 20 packages into a fresh venv, `fitwheel pip install` vs
   `pip install --index-url <nginx>` (target: at most 1.15x), then the same for uv with a cold
   cache each time (target: at most 1.5x); medians of alternating runs;
2. project pages per second from a warm `python -m fitwheel serve` under a loopback
   aiohttp load generator, next to nginx's static pages as the baseline.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from helpers.nginx import free_port, start_nginx  # noqa: E402
from helpers.serve_fixtures import OVERRIDES, build_index, clean_env  # noqa: E402

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
            times[variant].append(timed(command, env))
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


async def _load(url_for: list[str], seconds: float, concurrency: int) -> int:
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
    async with aiohttp.ClientSession(connector=connector, headers={"Accept": JSON}) as session:
        await asyncio.gather(*(worker(session, n) for n in range(concurrency)))
    return done


def pages_per_second(base: str, seconds: float = 5.0, concurrency: int = 16) -> float:
    projects = ["torchlike", "visionlike", "fastmath", "typing-shim", "pillow-shim"]
    projects += [f"filler-{n:02d}" for n in range(FILLERS)]
    urls = [f"{base}{p}/" for p in projects]
    asyncio.run(_load(urls, 1.0, concurrency))  # warm
    return asyncio.run(_load(urls, seconds, concurrency)) / seconds


def warm_server_pages(nginx_url: str, work: Path) -> float:
    """Pages/s from `python -m fitwheel serve` (a separate process), after one warm-up pass."""
    env = clean_env(work, OVERRIDES["ampere_cu128"])
    port = free_port()
    command = [sys.executable, "-m", "fitwheel", "serve", "--upstream", nginx_url]
    server = subprocess.Popen(
        [*command, "--port", str(port)], stderr=subprocess.PIPE, env={**os.environ, **env}
    )
    try:
        assert server.stderr is not None
        server.stderr.readline()  # "fitwheel serve: URL" once it listens
        return pages_per_second(f"http://127.0.0.1:{port}/simple/")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        out = build_index(work / "index", fillers=FILLERS)
        with start_nginx(out, work) as nginx:
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
    return 0 if pip_ratio <= 1.15 else 1


if __name__ == "__main__":
    sys.exit(main())
