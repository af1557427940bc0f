"""`fitwheel uv` / `fitwheel pip` with a warm shared proxy, against plain uv / pip, warm caches.

Standalone: `python benchmarks/bench_wrappers.py` (or `python benchmarks/run.py wrappers`). It
builds the test wheelhouse (20 packages to install: `torchlike`, `visionlike`, `fastmath`, their
plain dependencies and 15 fillers), indexes it with `fitwheel index build`, serves it with
nginx on 127.0.0.1 (the documented static-index configuration), and measures in the same run,
each install into a fresh venv, the installer's cache warm for both sides (one cache folder):

1. `uv pip install` vs `fitwheel uv pip install` with the shared proxy already running
   (target: at most 1.3x), then `fitwheel uv pip install` starting the proxy (stopped before
   each round: the cold start, reported, no target);
2. `pip install` vs `fitwheel pip install`, proxy running (target: at most 1.1x);
3. whether a warm `fitwheel uv` run imports aiohttp (it must not: it only checks the state
   file, asks the proxy who it is and runs uv).

Medians of alternating rounds; the machine is shared, so only the ratios are compared.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from helpers.nginx import start_nginx  # noqa: E402
from helpers.serve_fixtures import OVERRIDES, build_index, clean_env  # noqa: E402
from helpers.shared import stop_shared_proxies  # noqa: E402

ROUNDS = 7
FILLERS = 15
PACKAGES = ["torchlike", "visionlike", "fastmath", *(f"filler-{n:02d}" for n in range(FILLERS))]
FITWHEEL = [sys.executable, "-m", "fitwheel"]


def timed(command: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    """Wall seconds of `command`; its CPU seconds (with its children's: the installer, not
    the shared proxy, which is no child of it) are appended to `cpu`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def commands(kind: str, python: Path, index: str) -> dict[str, list[str]]:
    if kind == "pip":
        args = ["--python", str(python), "install", "-i", index, *PACKAGES]
        return {
            "plain": [sys.executable, "-m", "pip", *args],
            "fitwheel": [*FITWHEEL, "pip", *args],
        }
    from uv import find_uv_bin

    args = ["pip", "install", "--python", str(python), "-i", index, *PACKAGES]
    return {"plain": [str(find_uv_bin()), *args], "fitwheel": [*FITWHEEL, "uv", *args]}


def compare(kind: str, index: str, work: Path, env: dict[str, str], cold: bool = False) -> float:
    """Median ratio fitwheel/plain; with `cold`, the shared proxy is stopped before each
    fitwheel run (so it starts the proxy)."""
    cache = Path(env["FITWHEEL_CACHE_DIR"])
    warm = venv(work / f"{kind}-warmup")
    for variant in ("plain", "fitwheel"):  # fill the installer's cache, start the proxy
        timed(commands(kind, warm, index)[variant], env)
    times: dict[str, list[float]] = {"plain": [], "fitwheel": []}
    cpu: dict[str, list[float]] = {"plain": [], "fitwheel": []}
    for round_ in range(ROUNDS):
        for variant in ("plain", "fitwheel") if round_ % 2 == 0 else ("fitwheel", "plain"):
            python = venv(work / f"{kind}-{variant}-{cold}-{round_}")
            if cold and variant == "fitwheel":
                stop_shared_proxies(cache)
            times[variant].append(timed(commands(kind, python, index)[variant], env, cpu[variant]))
    plain, ours = statistics.median(times["plain"]), statistics.median(times["fitwheel"])
    what = "starting the proxy" if cold else "proxy running"
    print(
        f"install 20 packages with {kind} (warm cache), {what}: plain {plain * 1000:.0f} ms, "
        f"fitwheel {ours * 1000:.0f} ms, ratio {ours / plain:.2f}x (median of {ROUNDS})",
        flush=True,
    )
    cpu_plain, cpu_ours = statistics.median(cpu["plain"]), statistics.median(cpu["fitwheel"])
    print(
        f"  CPU (with the installer, without the proxy): plain {cpu_plain * 1000:.0f} ms, "
        f"fitwheel {cpu_ours * 1000:.0f} ms: the wrapper's own {(cpu_ours - cpu_plain) * 1000:.0f} ms"
    )
    rounds = zip(times["plain"], times["fitwheel"], strict=True)
    print(
        "  rounds (plain/fitwheel ms): "
        + ", ".join(f"{p * 1e3:.0f}/{f * 1e3:.0f}" for p, f in rounds)
    )
    return ours / plain


def imports_aiohttp(index: str, work: Path, env: dict[str, str]) -> bool:
    """Whether a warm `fitwheel uv pip install` imports aiohttp (-X importtime's list)."""
    wrapper = commands("uv", venv(work / "imports"), index)["fitwheel"]
    command = [sys.executable, "-X", "importtime", *wrapper[1:]]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    names = [line.rpartition("|")[2].strip() for line in result.stderr.splitlines()]
    return any(name == "aiohttp" or name.startswith("aiohttp.") for name in names)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-wrappers-") as tmp:
        work = Path(tmp)
        out = build_index(work / "index", fillers=FILLERS)
        env = clean_env(work, OVERRIDES["ampere_cu128"])
        env.pop("PIP_NO_CACHE_DIR")
        env["PIP_CACHE_DIR"] = str(work / "pip-cache")
        try:
            with start_nginx(out, work) as nginx:
                uv_ratio = compare("uv", nginx.url, work, env)
                uv_cold = compare("uv", nginx.url, work, env, cold=True)
                pip_ratio = compare("pip", nginx.url, work, env)
                heavy = imports_aiohttp(nginx.url, work, env)
        finally:
            stop_shared_proxies(Path(env["FITWHEEL_CACHE_DIR"]))
    print(f"warm fitwheel uv imports aiohttp: {'yes (MISSED)' if heavy else 'no'}")
    print(
        f"targets: uv warm <= 1.3x ({'ok' if uv_ratio <= 1.3 else 'MISSED'}: {uv_ratio:.2f}x), "
        f"pip warm <= 1.1x ({'ok' if pip_ratio <= 1.1 else 'MISSED'}: {pip_ratio:.2f}x); "
        f"uv cold start {uv_cold:.2f}x (no target)"
    )
    return 0 if uv_ratio <= 1.3 and pip_ratio <= 1.1 and not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
