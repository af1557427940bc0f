"""`fitwheel explain torch` over an index family of 8 members against a plain explain of one index.

Standalone: `python benchmarks/bench_families.py` (or `python benchmarks/run.py families`). It
writes the PyTorch-shaped site of the tests (`tests/helpers/families.py`: per-member pages of
torch 2.9.0 and 2.8.0 builds, each for four tags) and a family file with the 8 members that
have torch there (cpu, cu126, cu128, cu129, cu130, rocm6.3, rocm6.4, xpu), serves both with
nginx on 127.0.0.1, and measures in the same run, alternating, `ROUNDS` times each:

- baseline: `fitwheel explain torch --index-url <the PyPI-like index>` (one project page);
- target: the same with `--index-family FAMILY.toml=<base>` (every member's page, fetched
  concurrently, then one PEP 825 choice per release).

It prints the HTTP requests each made (from nginx's access log) and the median wall times,
with their ratio. Interpreter start-up is most of a command's time, so the same comparison is
also made in-process (`IN_PROCESS` rounds of fetch + choose, a fresh client each time, so no
response cache helps). Members are fetched concurrently, so the family should cost about one
page round trip more than the baseline, not eight.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from packaging.tags import sys_tags  # noqa: E402

from fitwheel.detect import detect  # noqa: E402
from fitwheel.families import parse_family_spec  # noqa: E402
from fitwheel.families.fetch import fetch_family_page  # noqa: E402
from fitwheel.index.client import IndexClient  # noqa: E402
from fitwheel.select import Target, choose, choose_in_family  # noqa: E402
from helpers.families import build_family_site  # noqa: E402
from helpers.nginx import start_nginx  # noqa: E402
from helpers.serve_fixtures import NO_GPU, clean_env  # noqa: E402

ROUNDS = 7
IN_PROCESS = 30
MEMBERS = ("cpu", "cu126", "cu128", "cu129", "cu130", "rocm6.3", "rocm6.4", "xpu")
BUILTIN = HERE.parent / "src" / "fitwheel" / "families" / "pytorch.toml"


def family_file(folder: Path) -> Path:
    """The built-in family's file, with its name and members replaced (8 members)."""
    text = BUILTIN.read_text()
    text = re.sub(r'(?m)^name = ".*"$', 'name = "pytorch-8"', text)
    shown = ", ".join(f'"{m}"' for m in MEMBERS)
    text, replaced = re.subn(r"(?ms)^members = \[.*?\]$", f"members = [{shown}]", text)
    if replaced != 1:
        raise SystemExit(f"{BUILTIN}: no `members = [...]` list to replace")
    path = folder / "pytorch-8.toml"
    path.write_text(text)
    return path


def run(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stderr}")
    return elapsed


def in_process(index: str, family_spec: str, env: dict[str, str]) -> dict[str, float]:
    """Median seconds of fetch + choose for torch: one index, then the family."""
    target = Target.of(detect(environ=env, use_cache=False))
    family = parse_family_spec(family_spec)

    async def plain() -> None:
        async with IndexClient() as client:
            page = await client.project_page(index, "torch")
            choose(page, target, await client.variants_documents(page))

    async def members() -> None:
        async with IndexClient() as client:
            choose_in_family(await fetch_family_page(client, family, "torch"), target)

    times: dict[str, list[float]] = {"plain (one index)": [], "family (8 members)": []}
    for _ in range(IN_PROCESS):
        for name, work in (("plain (one index)", plain), ("family (8 members)", members)):
            started = time.perf_counter()
            asyncio.run(work())
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def report(title: str, medians: dict[str, float], requests: dict[str, int]) -> None:
    print(title)
    for name, median in medians.items():
        print(f"  {name:20} {requests[name]:3d} requests, median {median * 1000:7.1f} ms")
    plain, family_time = medians["plain (one index)"], medians["family (8 members)"]
    print(
        f"  family / plain: {family_time / plain:.2f}x wall time, "
        f"{requests['family (8 members)']}/{requests['plain (one index)']} requests"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-families-") as folder:
        root = build_family_site(Path(folder) / "site", next(iter(sys_tags())).interpreter)
        family = family_file(Path(folder))
        env = clean_env(Path(folder), {**NO_GPU, "FITWHEEL_CUDA_DRIVER": "12.8",
                                       "FITWHEEL_CUDA_ARCH": "6.1"})  # fmt: skip
        with start_nginx(root, Path(folder)) as nginx:
            explain = [sys.executable, "-m", "fitwheel", "explain", "torch", "--format", "json",
                       "--index-url", f"{nginx.url}pypi/"]  # fmt: skip
            commands = {
                "plain (one index)": explain,
                "family (8 members)": [*explain, "--index-family", f"{family}={nginx.url}whl/"],
            }
            times: dict[str, list[float]] = {name: [] for name in commands}
            requests: dict[str, int] = {}
            for name, command in commands.items():  # warm-up, and the request count
                before = len(nginx.requests())
                run(command, env)
                requests[name] = len(nginx.requests()) - before
            for _ in range(ROUNDS):
                for name, command in commands.items():
                    times[name].append(run(command, env))
            fetched = in_process(f"{nginx.url}pypi/", f"{family}={nginx.url}whl/", env)
    medians = {name: statistics.median(values) for name, values in times.items()}
    report("fitwheel explain torch (whole command):", medians, requests)
    report("fetch + choose, in-process:", fetched, requests)


if __name__ == "__main__":
    main()
