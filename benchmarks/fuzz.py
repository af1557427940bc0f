"""Fuzz every parser with at least 100,000 inputs each and report what happened.

Each input comes from a seeded byte-level mutator over valid seeds and earlier inputs that
parsed (`tests/helpers/fuzz.py`, the targets the test run fuzzes with a small hypothesis
budget). An input must parse or raise fitwheel's documented error (a `FitwheelError`); any
other exception, or an input that runs past a time limit, is counted as unexpected and
written to the findings folder. Reports per target: inputs, parsed, refused, unexpected,
seconds; then the process's peak RSS. Exit status 1 when anything unexpected happened.

Run: `nice python benchmarks/fuzz.py [--count 100000] [--seed 825] [--only NAME ...]
[--findings DIR]`.
"""

from __future__ import annotations

import argparse
import random
import resource
import signal
import sys
import time
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from helpers.fuzz import PARSED, REFUSED, TARGETS, Target, classify, cleanup, mutate  # noqa: E402

PER_INPUT_SECONDS = 10
CORPUS_LIMIT = 2_000


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
            if len(corpus) < CORPUS_LIMIT:
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=825)
    parser.add_argument("--only", nargs="*", choices=sorted(TARGETS), default=sorted(TARGETS))
    parser.add_argument("--findings", type=Path, default=Path("fuzz-findings"))
    args = parser.parse_args(argv)
    signal.signal(signal.SIGALRM, _alarm)
    total_bad = 0
    print(f"{'target':<14}{'inputs':>9}{'parsed':>9}{'refused':>9}{'unexpected':>11}{'s':>8}")
    try:
        for name in args.only:
            rng = random.Random(f"{args.seed}-{name}")
            result = fuzz(TARGETS[name], args.count, rng, args.findings)
            total_bad += int(result["unexpected"])
            print(
                f"{name:<14}{result['inputs']:>9}{result['parsed']:>9}{result['refused']:>9}"
                f"{result['unexpected']:>11}{result['seconds']:>8.1f}",
                flush=True,
            )
    finally:
        cleanup()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mib:.0f} MiB")
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
