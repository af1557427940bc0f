"""Index benchmarks: `index build` of 5,000 files / 500 projects, and `explain` over HTTP.

1. Build: a folder of 5,000 tiny real wheels across 500 projects (every tenth project also has
   variant wheels) is published with `build_index`; the baseline is a plain loop writing the
   same output files' bytes (pages, sidecars, variants.json, distributions) into a fresh
   folder. Reported: both times, their ratio (target <= 1.0) and the absolute time (target
   < 10 s), plus an incremental re-run.
2. Explain: one project with 2,000 files (100 releases, 40 with variant wheels) served over
   HTTP by nginx (or, without nginx, aiohttp's static server); reported: time of a cold
   `fetch_project` + `choose` and the number of HTTP requests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fitwheel.index.build import build_index  # noqa: E402
from fitwheel.index.client import IndexClient  # noqa: E402
from fitwheel.profile import profile_from_document  # noqa: E402
from fitwheel.select import Target, choose  # noqa: E402
from fitwheel.variants.properties import parse_property  # noqa: E402
from fitwheel.wheel.variant import make_variant  # noqa: E402
from wheelmaker import make_wheel  # noqa: E402

TAGS = ("py3-none-any", "cp311-cp311-manylinux_2_17_x86_64", "cp312-cp312-manylinux_2_17_x86_64")
LEVELS = ("v2", "v3", "v4")
ROUNDS = 3


def populate(
    folder: Path, scratch: Path, projects: int, per_project: int, variant_every: int
) -> int:
    """Write `projects * per_project` distribution files; return how many."""
    count = 0
    for p in range(projects):
        name = f"proj{p:04d}"
        versions = 0
        while count < (p + 1) * per_project:
            version = f"1.{versions}"
            versions += 1
            if p % variant_every == 0 and per_project - (count - p * per_project) >= 4:
                base = make_wheel(scratch, name, version, TAGS[0])
                for level in LEVELS:
                    make_variant(
                        base, folder, [parse_property(f"x86_64 :: level :: {level}")],
                        label=f"x86_64_{level}",
                    )  # fmt: skip
                shutil.copy(base, folder / base.name)
                count += 4
                continue
            for tag in TAGS:
                if count >= (p + 1) * per_project:
                    break
                make_wheel(folder, name, version, tag)
                count += 1
    return count


def plain_loop(outputs: list[tuple[str, bytes]], target: Path) -> float:
    start = time.perf_counter()
    for relative, data in outputs:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    return time.perf_counter() - start


def bench_build(work: Path) -> None:
    source = work / "src"
    source.mkdir()
    start = time.perf_counter()
    files = populate(source, work / "scratch", projects=500, per_project=10, variant_every=10)
    print(f"generated {files} files in 500 projects in {time.perf_counter() - start:.1f} s")

    # Alternate the two a few times and compare medians: the machine is shared and noisy.
    builds, baselines = [], []
    for round_ in range(ROUNDS):
        start = time.perf_counter()
        report = build_index(source, work / f"out{round_}")
        builds.append(time.perf_counter() - start)
        outputs = [
            (str(p.relative_to(work / f"out{round_}")), p.read_bytes())
            for p in sorted((work / f"out{round_}").rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        ]
        baselines.append(plain_loop(outputs, work / f"baseline{round_}"))
    start = time.perf_counter()
    again = build_index(source, work / "out0")
    rerun = time.perf_counter() - start
    assert again.read == 0
    built, baseline = statistics.median(builds), statistics.median(baselines)
    size = sum(len(d) for _, d in outputs)
    print(f"index build: {report.files} files, {report.projects} projects -> {len(outputs)} "
          f"output files ({size / 1e6:.1f} MB); medians of {ROUNDS} alternating rounds")  # fmt: skip
    print(f"  index build (cold)            {built:7.3f} s   (target < 10 s)")
    print(f"  plain loop, same bytes        {baseline:7.3f} s")
    print(f"  ratio build / plain loop      {built / baseline:7.2f}   (target <= 1.0)")
    rounds = ", ".join(f"{b:.2f}/{p:.2f}" for b, p in zip(builds, baselines, strict=True))
    print(f"  rounds (build/plain loop, s)  {rounds}")
    print(f"  re-run, nothing changed       {rerun:7.3f} s   (ratio {rerun / baseline:.2f})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(root: Path, work: Path) -> tuple[str, subprocess.Popen[bytes], str]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    port = _free_port()
    if nginx is not None:
        site = (HERE.parent / "docs" / "nginx-simple-index.conf").read_text()
        site = site.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};")
        site = site.replace("root /srv/simple;", f"root {root};")
        (work / "site.conf").write_text(site)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (work / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
            "events { worker_connections 512; }\nhttp {\ninclude /etc/nginx/mime.types;\n"
            f"access_log off;\nclient_body_temp_path {work}/body;\nproxy_temp_path {work}/proxy;\n"
            f"fastcgi_temp_path {work}/fcgi;\nuwsgi_temp_path {work}/uwsgi;\nscgi_temp_path {work}/scgi;\n"
            f"include {work}/site.conf;\n}}\n"
        )
        command = [
            nginx,
            "-p",
            str(work),
            "-e",
            f"{work}/error.log",
            "-c",
            f"{work}/nginx.conf",
            "-g",
            "daemon off;",
        ]
        server = "nginx"
    else:
        code = (
            "import sys; from aiohttp import web; app = web.Application(); "
            "app.router.add_static('/', sys.argv[1], show_index=False); "
            "web.run_app(app, host='127.0.0.1', port=int(sys.argv[2]), print=None)"
        )
        # Without nginx: HTML pages only (aiohttp does no Accept negotiation or index files).
        command = [sys.executable, "-c", code, str(root), str(port)]
        server = "aiohttp static"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return f"http://127.0.0.1:{port}/", process, server


def bench_explain(work: Path) -> None:
    source = work / "src"
    source.mkdir()
    files = 0
    for release in range(100):
        version = f"2.{release}"
        if release % 5 < 2:  # 40 releases with variant wheels
            base = make_wheel(work / "scratch", "big", version, TAGS[0])
            for level in LEVELS:
                make_variant(
                    base,
                    source,
                    [parse_property(f"x86_64 :: level :: {level}")],
                    label=f"x86_64_{level}",
                )
            shutil.copy(base, source / base.name)
            files += 4
            for build in range(16):
                make_wheel(source, "big", version, TAGS[1 + build % 2], build=str(build + 1))
            files += 16
        else:
            for build in range(20):
                make_wheel(source, "big", version, TAGS[build % 3], build=str(build + 1))
            files += 20
    build_index(source, work / "www")
    url, process, server = _serve(work / "www", work)
    target = Target.of(
        profile_from_document(
            {
                "interpreter": {"python_version": "3.11.7", "platforms": ["linux_x86_64"]},
                "variants": {"x86_64": {"level": ["v3", "v2", "v1"]}},
            },
            where="bench",
        )
    )
    try:

        async def main() -> tuple[int, int, int]:
            async with IndexClient() as client:
                page = await client.project_page(url, "big")
                documents = await client.variants_documents(page)
                choices = choose(page, target, documents)
                return len(page.files), client.requests, len(choices)

        start = time.perf_counter()
        listed, requests, releases = asyncio.run(main())
        elapsed = time.perf_counter() - start
    finally:
        process.terminate()
        process.wait()
    print(f"explain over HTTP ({server}): project with {listed} files ({files} distributions + "
          f"variants.json), {releases} releases")  # fmt: skip
    print(f"  fetch page + variants.json + choose  {elapsed:7.3f} s, {requests} HTTP requests")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="fitwheel-bench-") as tmp:
        (Path(tmp) / "build").mkdir()
        bench_build(Path(tmp) / "build")
        (Path(tmp) / "explain").mkdir()
        bench_explain(Path(tmp) / "explain")
    return 0


if __name__ == "__main__":
    sys.exit(main())
