#!/usr/bin/env bash
# Cost growth with the size knob: for each N of NUMELS and each family, one `conform run --family F --max-numel N`
# under /usr/bin/time -v, same seed and budget. Per family: cases/s and values/s (the family's total cases and
# values over the run's wall time, from report.json), the largest process's peak resident memory (time's "Maximum
# resident set size": the parent or one worker, whichever was largest), and the budget check: each property's
# `duration_s` against its share (the budget over the rounds the workers take: properties that ran / jobs, rounded
# up), the largest overrun, every property that checked no case (`vacuous`) or overran its share by more than 10 %,
# and the run's wall time over the budget. Prints markdown tables.
#
#   scripts/bench-numel.sh                                   # N = 64 4096 65536 262144, 30s per family run
#   NUMELS="64 4096" BUDGET=10s FAMILIES="casts roundtrip" scripts/bench-numel.sh
#
# Needs python3 and GNU time (/usr/bin/time, Debian's `time`). Exit code 0, or 2 when a run could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

numels="${NUMELS:-64 4096 65536 262144}"
budget="${BUDGET:-30s}"
seed="${SEED:-20261128}"
jobs="${JOBS:-2}"
work="${WORK:-target/bench/numel}"
if [ -z "${CONFORM:-}" ]; then
  cargo xtask setup >&2
  cargo build --release --quiet -p conform-harness
  CONFORM=target/release/conform
fi
families="${FAMILIES:-$("$CONFORM" list | cut -d: -f1 | uniq | tr '\n' ' ')}"

rm -rf "$work"
mkdir -p "$work"
python3 - "$CONFORM" "$numels" "$budget" "$seed" "$jobs" "$work" "$families" <<'PY'
import json, os, re, subprocess, sys

conform, numels, budget, seed, jobs, work, families = sys.argv[1:8]
numels, families, jobs = [int(n) for n in numels.split()], families.split(), int(jobs)

rows, problems = [], []
print(f"`/usr/bin/time -v {conform} run --family F --max-numel N --seed {seed} --budget {budget} --jobs {jobs}`\n")
print("| family | N | properties | cases | skipped | cases/s | values/s | ns/value | peak RSS | largest share overrun | wall / budget |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for family in families:
    for n in numels:
        out = os.path.join(work, f"{family}-{n}")
        os.makedirs(out)
        timing = os.path.join(out, "time.txt")
        cmd = ["/usr/bin/time", "-v", "-o", timing, conform, "run", "--family", family, "--max-numel", str(n),
               "--seed", seed, "--budget", budget, "--jobs", str(jobs), "--quiet", "--out", out,
               "--pending", os.path.join(out, "pending")]
        code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        if code >= 2:
            print(f"`{' '.join(cmd)}` exited {code}", file=sys.stderr)
            sys.exit(2)
        report = json.load(open(os.path.join(out, "report.json")))
        rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timing).read()).group(1))
        ran = [p for p in report["properties"] if p["status"] != "skip"]
        if not ran:
            continue
        share = report["settings"]["budget_s"] / -(-len(ran) // jobs)  # the runner's share_of: budget / rounds
        cases = sum(p["cases"] for p in ran)
        values = sum(p["values"] for p in ran)
        skipped = sum(p.get("skipped", 0) for p in ran)
        wall = report["duration_s"]
        if wall > 1.1 * report["settings"]["budget_s"]:
            problems.append(f"N={n}: the {family} run took {wall:.1f} s of a {report['settings']['budget_s']:.0f} s budget")
        over = max(p["duration_s"] / share - 1 for p in ran)
        for p in ran:
            if p["cases"] == 0 or p["status"] == "vacuous":
                problems.append(f"N={n}: {p['name']} checked {p['cases']} cases ({p['status']}: {p.get('vacuous_reason')})")
            elif p["duration_s"] > 1.1 * share:
                problems.append(f"N={n}: {p['name']} ran {p['duration_s']:.2f} s of a {share:.2f} s share")
        ns = wall * jobs * 1e9 / values if values else float("inf")
        print(f"| {family} | {n} | {len(ran)} | {cases} | {skipped} | {cases / wall:.1f} | {values / wall:.3g} | "
              f"{ns:.1f} | {rss_kib / 1024:.0f} MiB | {over * 100:+.0f} % | {wall / report['settings']['budget_s']:.2f} |",
              flush=True)
print()
print("\n".join(f"- {p}" for p in problems) if problems
      else "every property checked cases and kept within 10 % of its share, and every run within 10 % of its budget")
PY
