#!/usr/bin/env python3
"""How Lifeboat's cost grows with the number of blobs in a repository (issue 16's scale rows).

For each size N (default 1, 3 and 10 million blobs) it writes a synthetic repository
(`lifeboat-benchmarks synthetic-repository`: N real 16-byte blobs, 10% of them referenced
by no snapshot), then measures wall time and peak RSS of:

  open       opening it and loading its index (`lifeboat-benchmarks open-index`)
  no-change  a backup of a small directory whose parent snapshot is in the repository
             (what a repository of N blobs adds to every backup: reading and holding the index)
  check      `lifeboat check` (structure, no --read-data): every index segment, every tree
             of the snapshot, every blob reference looked up
  prune      `lifeboat prune --pack-grace 0`: removes the 10% garbage (repacking)

and prints a table, with the memory each step holds per blob: the growth of peak RSS from
the smallest N to the largest, divided by the growth in blobs (the fixed cost of the
program cancels out).

  scale.py --lifeboat PATH --benchmarks PATH [--blobs 1000000,3000000,10000000]
           [--steps open,no-change,check,prune] [--work DIR] [--markdown FILE] [--keep]

(--steps leaves steps out, e.g. to time an older lifeboat whose prune would take hours.)
"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import run_measured, clean_env  # noqa: E402

PASSWORD = "scale-benchmark"
STEPS = ["generate", "open", "no-change", "check", "prune"]


def measure(argv, env, logs, name):
    code, wall, cpu, rss, out, err = run_measured(argv, env, None, os.path.join(logs, name))
    if code != 0:
        sys.exit(f"scale.py: {name} failed ({code}): {' '.join(argv)}\n{err or out}")
    print(f"scale.py: {name}: {wall:.2f} s, {rss / 1024:.0f} MiB  {out.strip().splitlines()[-1] if out.strip() else ''}", file=sys.stderr)
    return wall, rss / 1024


def run_size(n, args, work):
    repo = os.path.join(work, f"repo-{n}")
    source = os.path.join(work, "source")
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(source, exist_ok=True)
    with open(os.path.join(source, "settings.conf"), "w") as f:
        f.write("a small directory, backed up again unchanged\n")
    env = clean_env({"LIFEBOAT_REPOSITORY": repo, "LIFEBOAT_PASSWORD": PASSWORD})
    results = {}
    results["generate"] = measure([args.benchmarks, "synthetic-repository", repo, "--blobs", str(n), "--garbage", "10"], env, logs, f"{n}-generate")
    if "open" in args.steps:
        results["open"] = measure([args.benchmarks, "open-index", repo], env, logs, f"{n}-open")
    if "no-change" in args.steps:
        measure([args.lifeboat, "backup", source], env, logs, f"{n}-parent")
        results["no-change"] = measure([args.lifeboat, "backup", source], env, logs, f"{n}-no-change")
    if "check" in args.steps:
        results["check"] = measure([args.lifeboat, "check"], env, logs, f"{n}-check")
    if "prune" in args.steps:
        results["prune"] = measure([args.lifeboat, "prune", "--pack-grace", "0"], env, logs, f"{n}-prune")
        measure([args.lifeboat, "check"], env, logs, f"{n}-check-after-prune")
    if not args.keep:
        shutil.rmtree(repo, ignore_errors=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lifeboat", required=True)
    parser.add_argument("--benchmarks", required=True, help="the lifeboat-benchmarks binary")
    parser.add_argument("--blobs", default="1000000,3000000,10000000")
    parser.add_argument("--steps", default=",".join(STEPS[1:]))
    parser.add_argument("--work")
    parser.add_argument("--markdown")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.lifeboat = os.path.abspath(args.lifeboat)
    args.benchmarks = os.path.abspath(args.benchmarks)
    args.steps = set(args.steps.split(","))
    unknown = args.steps - set(STEPS[1:])
    if unknown:
        sys.exit(f"scale.py: unknown steps {sorted(unknown)}; the steps are {', '.join(STEPS[1:])}")
    sizes = sorted(int(s) for s in args.blobs.split(","))
    work = args.work or tempfile.mkdtemp(prefix="lifeboat-scale.")
    results = {n: run_size(n, args, work) for n in sizes}

    lines = ["| step | " + " | ".join(f"{n / 1e6:g}M blobs: s, MiB" for n in sizes) + " | bytes per blob |", "| --- | " + " | ".join("---" for _ in sizes) + " | --- |"]
    for step in [s for s in STEPS if s in results[sizes[0]]]:
        cells = [f"{results[n][step][0]:.2f} s, {results[n][step][1]:.0f} MiB" for n in sizes]
        if len(sizes) > 1:
            (small, large) = (sizes[0], sizes[-1])
            per_blob = (results[large][step][1] - results[small][step][1]) * 1024 * 1024 / (large - small)
            cells.append(f"{per_blob:.0f}")
        else:
            cells.append("")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
