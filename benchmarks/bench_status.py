"""The status page and explain views of `fitwheel serve` against its project pages.

Standalone: `python benchmarks/bench_status.py` (or `python benchmarks/run.py status`). It
builds the test wheelhouse and its static index (`fitwheel index build`), writes a fleet of
four profiles, starts a warm `python -m fitwheel serve --profiles` over the index folder on
127.0.0.1, and measures requests per second under a loopback aiohttp load generator, in the same
run and alternating, `ROUNDS` times each (medians):

- baseline: resolved project pages (`/p/NAME/simple/PROJECT/`, PEP 691 JSON), the proxy's
  main work, all from its page cache;
- `/`: the status page (rendered once per change of the upstreams' health);
- `/p/NAME/explain/PROJECT`: the explain view (rendered once per resolved page);
- `/?project=PROJECT`: a search, which reads every profile's resolved page and renders a page.

Targets (ratios to the baseline): `/` and the explain view at least 0.7x, a search over four
profiles at least 0.3x: the page for people must never be what slows the server down.
"""

from __future__ import annotations

import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from helpers.serve_fixtures import OVERRIDES, build_index, clean_env, detect_profile  # noqa: E402

ROUNDS = 5
SECONDS = 2.0
CONCURRENCY = 8
PROFILES = ("ampere_cu128", "pascal_cu128", "hopper_cu130", "cpu")
PROJECTS = ("torchlike", "visionlike", "fastmath", "typing-shim")
TARGETS = {"status": 0.7, "explain": 0.7, "search": 0.3}


async def _load(urls: list[str], seconds: float, accept: str) -> int:
    """Requests answered in `seconds` by CONCURRENCY keep-alive clients (bench_serve's load)."""
    from bench_serve import _load as load

    return await load(urls, seconds, CONCURRENCY, accept)


def rate(urls: list[str], accept: str) -> float:
    return asyncio.run(_load(urls, SECONDS, accept)) / SECONDS


def start_server(
    index: Path, fleet: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "fitwheel", "-q", "serve", "--upstream", str(index),
         "--profiles", str(fleet), "--port", "0", "--page-ttl", "3600"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline()
    if not line.startswith("fitwheel serve: http://"):
        process.kill()
        raise SystemExit(f"fitwheel serve did not start: {line}")
    return process, line.split()[-1].split("/p/")[0]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-status-") as folder:
        work = Path(folder)
        index = build_index(work / "index")
        fleet = work / "fleet"
        fleet.mkdir()
        for name in PROFILES:
            detect_profile(fleet / f"{name}.json", OVERRIDES[name])
        process, base = start_server(index, fleet, clean_env(work))
        try:
            pages = [f"{base}/p/{n}/simple/{p}/" for n in PROFILES for p in PROJECTS]
            kinds = {
                "baseline": (pages, "application/vnd.pypi.simple.v1+json"),
                "status": ([f"{base}/"], "text/html"),
                "explain": ([f"{base}/p/{n}/explain/{p}" for n in PROFILES for p in PROJECTS],
                            "text/html"),
                "search": ([f"{base}/?project={p}" for p in PROJECTS], "text/html"),
            }  # fmt: skip
            for urls, accept in kinds.values():
                asyncio.run(_load(urls, 0.5, accept))  # warm: every page resolved and rendered
            rates: dict[str, list[float]] = {kind: [] for kind in kinds}
            for _ in range(ROUNDS):
                for kind, (urls, accept) in kinds.items():
                    rates[kind].append(rate(urls, accept))
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
    medians = {kind: statistics.median(values) for kind, values in rates.items()}
    failed = False
    print(f"baseline (resolved project pages): {medians['baseline']:.0f} requests/s")
    for kind, target in TARGETS.items():
        ratio = medians[kind] / medians["baseline"]
        verdict = "ok" if ratio >= target else "MISSED"
        failed |= ratio < target
        print(
            f"{kind}: {medians[kind]:.0f} requests/s = {ratio:.2f}x (target >= {target}x) {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
