#!/usr/bin/env bash
# Time from a fresh seed to each known deviation's shrunk counterexample: for every [[deviation]] of
# known-deviations.toml, SEEDS seeds (1..SEEDS), each one `conform run --property P --seed S` with a per-seed cap
# (CAP, the run's budget) and no memory of the deviation: the corpus holds no case of it and the known file does not
# list it. Where P has other known deviations they are listed (with their evidence copied into the run's own corpus),
# so the search tolerates them and goes on until it finds this one, as a run with the full known file would; where P
# has none, the known file is empty and the corpus empty. The time is the property's `duration_s` in report.json
# (search and shrinking, without process start-up); a seed that found another signature or nothing within the cap
# counts as over the cap. Prints a markdown table: per deviation the median of the seeds, how many found it, and
# the slowest.
#
#   scripts/bench-seed-to-deviation.sh                       # 10 seeds, 10s cap, release build
#   SEEDS=5 CAP=5s scripts/bench-seed-to-deviation.sh
#   CONFORM=target/debug/conform WORK=/tmp/s2d scripts/bench-seed-to-deviation.sh
#   PARALLEL=2 scripts/bench-seed-to-deviation.sh             # two runs side by side (one core each, on 2 cores)
#   FROM=27 scripts/bench-seed-to-deviation.sh                # from the 28th deviation on (resume a long run)
#
# Needs python3 (the README's set-up needs it too). Exit code 0, or 2 when a run could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds="${SEEDS:-10}"
cap="${CAP:-10s}"
work="${WORK:-target/bench/seed-to-deviation}"
parallel="${PARALLEL:-1}"
from="${FROM:-0}"
if [ -z "${CONFORM:-}" ]; then
  cargo xtask setup >&2
  cargo build --release --quiet -p conform-harness
  CONFORM=target/release/conform
fi

rm -rf "$work"
mkdir -p "$work"
python3 - "$CONFORM" "$seeds" "$cap" "$work" "$parallel" "$from" <<'EOF'
import concurrent.futures, json, os, shutil, statistics, subprocess, sys, tomllib

conform, seeds, cap, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
pool = concurrent.futures.ThreadPoolExecutor(max_workers=int(sys.argv[5]))
deviations = tomllib.load(open("known-deviations.toml", "rb"))["deviation"]
cap_s = float(cap.rstrip("s")) if cap.endswith("s") and not cap.endswith("ms") else None

def toml_string(s):
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string

print(f"seeds 1..{seeds}, cap {cap} per seed, `{conform} run --property P --seed S --budget {cap} --jobs 1`\n")
print("| property | deviation (signature) | found | median to counterexample | slowest found |")
print("| --- | --- | ---: | ---: | ---: |")
for i, dev in enumerate(deviations):
    if i < int(sys.argv[6]):
        continue
    here = os.path.join(work, f"dev-{i}")
    corpus = os.path.join(here, "corpus")
    os.makedirs(corpus)
    others = [d for d in deviations if d["property"] == dev["property"] and d is not dev]
    lines = []
    for d in others:
        source = d["evidence"]
        target = os.path.join(here, source)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target)
        lines += ["[[deviation]]"] + [f"{k} = {toml_string(d[k])}" for k in ("property", "signature", "reason", "evidence")] + [""]
    known = os.path.join(here, "known.toml")
    open(known, "w").write("\n".join(lines))
    def one(seed):
        out = os.path.join(here, f"seed-{seed}")
        cmd = [conform, "run", "--property", dev["property"], "--seed", str(seed), "--known", known,
               "--corpus", corpus, "--pending", os.path.join(out, "pending"), "--out", out,
               "--cases", "1000000", "--budget", cap, "--jobs", "1", "--quiet"]
        code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        if code >= 2:
            print(f"`{' '.join(cmd)}` exited {code}", file=sys.stderr)
            sys.exit(2)
        report = json.load(open(os.path.join(out, "report.json")))
        (prop,) = [p for p in report["properties"] if p["name"] == dev["property"]]
        ce = prop.get("counterexample")
        found = ce is not None and ce["signature"] == dev["signature"]
        return prop["duration_s"] if found else float("inf")
    times = list(pool.map(one, range(1, seeds + 1)))
    hits = [t for t in times if t != float("inf")]
    median = statistics.median(times)
    med = f"{median:.2f} s" if median != float("inf") else f"> {cap}"
    slowest = f"{max(hits):.2f} s" if hits else "–"
    print(f"| `{dev['property']}` | {dev['signature']} | {len(hits)}/{seeds} | {med} | {slowest} |", flush=True)
EOF
