#!/usr/bin/env bash
# `conform run` throughput against the number of worker processes: ROUNDS rounds, each a run with `--in-process`, one
# with `--jobs 1` and one with `--jobs 2` (rotating which goes first, so a drift of the machine's speed hits all), same
# seed and budget,
# the repository's corpus and known deviations. Throughput is the total cases of all properties over the run's
# wall time, both from report.json (`properties[].cases`, `duration_s`); the ratio is taken round by round, and the
# median ratio is the figure. Beside it: the cores the run got (its processes' user + system CPU seconds over the wall
# time) and its cases per CPU second, and the 1-minute load average before each run. Other processes on the machine
# take cores from the runs and lower the throughput ratio; the cores column shows how many the run actually got, and
# equal cases per CPU second at 1 and 2 jobs show that the work itself scales.
#
#   scripts/bench-jobs.sh                          # 3 rounds of 20s runs, release build
#   ROUNDS=5 BUDGET=30s JOBS="1 2" scripts/bench-jobs.sh
#
# FAMILIES (default: the families whose known deviations do not crash: an in-process run dies at the first crash, so
# files and api, whose evidence segfaults, cannot be measured in-process; devices is `skip` without CUDA).
#
# Needs python3. Exit code 0, or 2 when a run could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${ROUNDS:-3}"
budget="${BUDGET:-20s}"
seed="${SEED:-20261128}"
work="${WORK:-target/bench/jobs}"
families="${FAMILIES:-roundtrip dtype aliasing casts metamorphic}"
if [ -z "${CONFORM:-}" ]; then
  cargo xtask setup >&2
  cargo build --release --quiet -p conform-harness
  CONFORM=target/release/conform
fi

rm -rf "$work"
mkdir -p "$work"
python3 - "$CONFORM" "$rounds" "$budget" "$seed" "$work" "$families" <<'PY'
import json, os, resource, statistics, subprocess, sys

conform, rounds, budget, seed, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
families = [a for f in sys.argv[6].split() for a in ("--family", f)]

def run(jobs, r):
    out = os.path.join(work, f"round-{r}-jobs-{jobs}")
    load = os.getloadavg()[0]
    mode = ["--in-process"] if jobs == 0 else ["--jobs", str(jobs)]
    cmd = [conform, "run", "--seed", seed, "--budget", budget, *mode, *families, "--quiet",
           "--out", out, "--pending", os.path.join(out, "pending")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if code >= 2:
        print(f"`{' '.join(cmd)}` exited {code}", file=sys.stderr)
        sys.exit(2)
    report = json.load(open(os.path.join(out, "report.json")))
    cases = sum(p["cases"] for p in report["properties"])
    wall = report["duration_s"]
    return cases / wall, cases, wall, load, cpu / wall, cases / cpu

print(f"`{conform} run --seed {seed} --budget {budget} {' '.join(families)}` with `--in-process`, `--jobs 1`, `--jobs 2`, {rounds} rounds\n")
print("| round | in-process: cases/s (cases, wall, cores got, cases/CPU-s, load) | jobs 1: the same | jobs 2: the same "
      "| 1 worker / in-process | jobs 2 / jobs 1 | cases/CPU-s 2/1 |")
print("| ---: | --- | --- | --- | ---: | ---: | ---: |")
ratios, workers, efficiency = [], [], []
for r in range(1, rounds + 1):
    order = [(0, 1, 2), (1, 2, 0), (2, 0, 1)][(r - 1) % 3]
    got = {j: run(j, r) for j in order}
    ratio = got[2][0] / got[1][0]
    ratios.append(ratio)
    workers.append(got[1][0] / got[0][0])
    efficiency.append(got[2][5] / got[1][5])
    cell = lambda g: f"{g[0]:.0f} ({g[1]}, {g[2]:.1f} s, {g[4]:.2f}, {g[5]:.0f}, {g[3]:.2f})"
    print(f"| {r} | {cell(got[0])} | {cell(got[1])} | {cell(got[2])} | {workers[-1]:.2f} | {ratio:.2f} "
          f"| {efficiency[-1]:.2f} |", flush=True)
print(f"\nmedian ratio jobs 2 / jobs 1: {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
      f"one worker / in-process: {statistics.median(workers):.2f}; "
      f"cases per CPU second, jobs 2 / jobs 1: {statistics.median(efficiency):.2f}")
PY
