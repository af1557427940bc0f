"""Fuzz every parser with at least 100,000 inputs each and report what happened.

Each input comes from a seeded byte-level mutator over valid seeds and earlier inputs that
parsed (`tests/helpers/fuzz.py`, the targets the test run fuzzes with a small hypothesis
budget). An input must parse or raise fitwheel's documented error (a `FitwheelError`); any
other exception, or an input that runs past a time limit, is counted as unexpected and
written to the findings folder. Each target runs in its own process, so its peak RSS is its
own. Reports per target: inputs, parsed, refused, unexpected, seconds, peak RSS. Exit status 1
when anything unexpected happened.

Run: `nice python benchmarks/fuzz.py [--count 100000] [--seed 825] [--only NAME ...]
[--findings DIR]`.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from helpers.fuzz import PARSED, REFUSED, TARGETS, Target, classify, cleanup, mutate  # noqa: E402

PER_INPUT_SECONDS = 10
CORPUS_LIMIT = 2_000
CORPUS_ENTRY_LIMIT = 64 << 10
"""Inputs larger than this are fed but not kept for further mutation (the corpus stays small,
so the peak RSS measured is the parsers', not the fuzzer's)."""


class _TooSlow(BaseException):
    pass


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise _TooSlow


def fuzz(target: Target, count: int, rng: random.Random, findings: Path) -> dict[str, float]:
    corpus = list(target.seeds())
    parsed = refused = bad = 0
    seen: set[str] = set()
    start = time.perf_counter()
    for index in range(count):
        data = mutate(rng, rng.choice(corpus))
        signal.alarm(PER_INPUT_SECONDS)
        try:
            outcome = classify(target, data)
        except _TooSlow:
            outcome = f"Hang: took more than {PER_INPUT_SECONDS} s"
        finally:
            signal.alarm(0)
        if outcome == PARSED:
            parsed += 1
            if len(corpus) < CORPUS_LIMIT and len(data) <= CORPUS_ENTRY_LIMIT:
                corpus.append(data)
        elif outcome == REFUSED:
            refused += 1
        else:
            bad += 1
            if outcome[:60] not in seen:
                seen.add(outcome[:60])
                findings.mkdir(parents=True, exist_ok=True)
                (findings / f"{target.name}-{index}.bin").write_bytes(data)
                print(f"  {target.name}: unexpected {outcome}", flush=True)
    return {
        "inputs": count,
        "parsed": parsed,
        "refused": refused,
        "unexpected": bad,
        "seconds": time.perf_counter() - start,
    }


def run_one(name: str, count: int, seed: int, findings: Path) -> int:
    """Fuzz one target in this process; print its result as JSON on the last line."""
    signal.signal(signal.SIGALRM, _alarm)
    try:
        result = fuzz(TARGETS[name], count, random.Random(f"{seed}-{name}"), findings)
    finally:
        cleanup()
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result), flush=True)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=825)
    parser.add_argument("--only", nargs="*", choices=sorted(TARGETS), default=sorted(TARGETS))
    parser.add_argument("--findings", type=Path, default=Path("fuzz-findings"))
    parser.add_argument("--child", choices=sorted(TARGETS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return run_one(args.child, args.count, args.seed, args.findings)
    total_bad = 0
    print(
        f"{'target':<14}{'inputs':>9}{'parsed':>9}{'refused':>9}{'unexpected':>11}{'s':>8}"
        f"{'peak RSS MiB':>14}"
    )
    for name in args.only:
        child = subprocess.run(
            [
                *(sys.executable, __file__, "--child", name, "--count", str(args.count)),
                *("--seed", str(args.seed), "--findings", str(args.findings)),
            ],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        lines = child.stdout.strip().splitlines()
        for line in lines[:-1]:
            print(line)
        if child.returncode != 0 or not lines:
            print(f"{name:<14} the fuzzing process failed (exit {child.returncode})")
            total_bad += 1
            continue
        result = json.loads(lines[-1])
        total_bad += int(result["unexpected"])
        print(
            f"{name:<14}{result['inputs']:>9}{result['parsed']:>9}{result['refused']:>9}"
            f"{result['unexpected']:>11}{result['seconds']:>8.1f}{result['peak_rss_mib']:>14.0f}",
            flush=True,
        )
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
