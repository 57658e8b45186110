#!/usr/bin/env bash
# Runs every criterion benchmark once (`cargo bench --workspace --bench '*' -- --quick --noplot`, arguments after
# the script's name replace `--quick --noplot`) and prints the README's tables from what that run saved under
# target/criterion: each figure as a ratio to its reference measured in the same run, with the goals.
#
#   scripts/bench-ratios.sh                   # about 3 minutes on 2 cores
#   TABLE_ONLY=1 scripts/bench-ratios.sh      # tabulate the last run again without running anything
#
# Needs python3. Exit code: cargo's when the benchmarks fail, else 0 (the goals are reported, not enforced).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TABLE_ONLY:-}" ]; then
  cargo xtask setup >&2
  [ "$#" -gt 0 ] || set -- --quick --noplot
  rm -rf target/criterion
  cargo bench --workspace --bench '*' -- "$@" >&2
fi

python3 - "${CARGO_TARGET_DIR:-target}/criterion" <<'PY'
import glob, json, os, statistics, sys

root = sys.argv[1]
runs = {}
for path in glob.glob(os.path.join(root, "**", "new", "benchmark.json"), recursive=True):
    bench = json.load(open(path))
    estimates = json.load(open(os.path.join(os.path.dirname(path), "estimates.json")))
    key = (bench["group_id"], bench["function_id"] or "", bench["value_str"] or "")
    runs[key] = (estimates["median"]["point_estimate"], bench.get("throughput") or {})

def rate(key):
    ns, throughput = runs[key]
    (unit, amount), = throughput.items()
    return amount / ns * 1e9  # bytes or elements per second

def fmt(x, unit):
    for scale, prefix in ((1 << 30, "Gi"), (1 << 20, "Mi"), (1 << 10, "Ki")) if unit == "B" else ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.2f} {prefix}{unit}/s"
    return f"{x:.0f} {unit}/s"

def size_order(label):
    n = float(label.rstrip("KiMGB"))
    return n * {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[label[-3:]]

goal_hold = []
for group in ("array to tensor", "tensor to array"):
    sizes = sorted({k[2] for k in runs if k[0] == group}, key=size_order)
    functions = [f for f in dict.fromkeys(k[1] for k in runs if k[0] == group) if not f.startswith(("memcpy", "alloc"))]
    print(f"\n{group}: bytes/s as a ratio to memcpy (`copy_from_slice` into memory touched before timing), "
          f"[in brackets: to memcpy into new memory advised to use huge pages, as conform's conversions do: the most "
          f"a conversion that returns new memory can reach]\n")
    print("| conversion | " + " | ".join(sizes) + " |")
    print("| --- |" + " ---: |" * len(sizes))
    memcpy = {s: rate((group, "memcpy copy_from_slice", s)) for s in sizes}
    to_vec = {s: rate((group, "alloc+memcpy to_vec", s)) for s in sizes}
    fresh = {s: rate((group, "alloc+memcpy huge pages", s)) for s in sizes}
    print("| memcpy | " + " | ".join(fmt(memcpy[s], "B") for s in sizes) + " |")
    print("| to_vec (alloc + memcpy) | " + " | ".join(f"{to_vec[s] / memcpy[s]:.2f}" for s in sizes) + " |")
    print("| alloc + huge pages + memcpy | " + " | ".join(f"{fresh[s] / memcpy[s]:.2f}" for s in sizes) + " |")
    for f in functions:
        cells = []
        for s in sizes:
            if (group, f, s) not in runs:
                cells.append("–")
                continue
            r = rate((group, f, s))
            cells.append(f"{r / memcpy[s]:.2f} [{r / fresh[s]:.2f}]")
            if f.startswith("conform") and f.endswith("contiguous") and size_order(s) >= 1 << 20:
                goal_hold.append((group, s, r / memcpy[s], r / fresh[s]))
        print(f"| {f} | " + " | ".join(cells) + " |")

if goal_hold:
    worst = min(goal_hold, key=lambda g: g[2])
    worst_alloc = min(goal_hold, key=lambda g: g[3])
    print(f"\ngoal, contiguous conform conversions ≥ 1 MiB at ≥ 0.80 of memcpy: lowest {worst[2]:.2f} "
          f"({worst[0]}, {worst[1]}); against memcpy into new huge-page memory: lowest {worst_alloc[3]:.2f} "
          f"({worst_alloc[0]}, {worst_alloc[1]})")

views = {k: v for k, v in runs.items() if k[0] == "view creation"}
if views:
    print("\nview creation (`SharedBuffer::tensor` on an existing buffer): time per view\n")
    print("| layout | 1 KiB | 1 GiB | 1 GiB / 1 KiB |")
    print("| --- | ---: | ---: | ---: |")
    for layout in dict.fromkeys(k[1] for k in views):
        small, large = runs[("view creation", layout, "1KiB")][0], runs[("view creation", layout, "1GiB")][0]
        print(f"| {layout} | {small:.0f} ns | {large:.0f} ns | {large / small:.2f} (goal ≤ 2) |")

oracle = "oracle f64→f32"
if any(k[0] == oracle for k in runs):
    print("\noracle, f64 → f32 on one core: values/s and the ratio of each to conform's oracle\n")
    print("| conversion | values/s | ratio to cast_float |")
    print("| --- | ---: | ---: |")
    ours = rate((oracle, "conform cast_float", ""))
    for f in ("conform cast_float", "hardware as", "rustc_apfloat convert"):
        r = rate((oracle, f, ""))
        print(f"| {f} | {fmt(r, '')} | {r / ours:.2f} |")
    print(f"\ngoal, oracle ≥ 20 M values/s: {ours / 1e6:.1f} M values/s")

for group, unit, what in (("generate", "cases", "one case from each property of the family"),
                          ("shrink", "steps", "shrink steps, always-failing check")):
    keys = [k for k in runs if k[0] == group]
    if keys:
        print(f"\n{group} ({what}), CONFORM_MAX_NUMEL 64\n")
        print(f"| family | {unit}/s | µs per {unit[:-1]} |")
        print("| --- | ---: | ---: |")
        for k in sorted(keys, key=lambda k: k[2]):
            r = rate(k)
            print(f"| {k[2]} | {fmt(r, '')} | {1e6 / r:.2f} |")
PY
