#!/usr/bin/env bash
# What .github/workflows/nightly.yml does, on this machine: the shards of one date-derived seed run (one after the
# other, with CI set, so no pending file goes into the corpus: each shard's go into its run folder), `conform merge`
# makes one report of them, `conform diff --format markdown` compares it with the previous merged report kept in a
# local folder, and the markdown summary is printed on stdout (progress goes to stderr). The merged report becomes
# the next run's "previous" when nothing got worse, as the workflow compares with the last successful night.
#
#   scripts/nightly-local.sh                              # 2 shards of 20s each, seed = today's date (UTC)
#   SHARDS=3 BUDGET=1m SEED=42 scripts/nightly-local.sh
#   NIGHTLY_DIR=/tmp/nightly scripts/nightly-local.sh     # where the runs and the previous merged report are kept
#
# Exit code: 0 nothing got worse (with no previous report: no property fails), 1 something did, 2 an error.
set -euo pipefail
cd "$(dirname "$0")/.."

shards="${SHARDS:-2}"
budget="${BUDGET:-20s}"
seed="${SEED:-$(date -u +%Y%m%d)}"
state="${NIGHTLY_DIR:-target/nightly-local}"
run="$state/runs/$(date -u +%Y%m%dT%H%M%SZ)"
previous="$state/previous"

say() { echo "nightly-local: $*" >&2; }

cargo xtask setup >&2
cargo build --quiet -p conform-harness
conform=target/debug/conform

say "seed $seed, $shards shards of $budget each, into $run"
mkdir -p "$run/merged/pending"
reports=()
for k in $(seq 1 "$shards"); do
  dir="$run/shard-$k"
  mkdir -p "$dir"
  status=0
  CI=true "$conform" run --seed "$seed" --shard "$k/$shards" --budget "$budget" --quiet \
    --out "$dir/report" --pending "$dir/pending" > "$dir/run.log" 2>&1 || status=$?
  if [ "$status" -ge 2 ]; then
    cat "$dir/run.log" >&2
    say "shard $k/$shards failed to run (exit $status)"
    exit 2
  fi
  say "shard $k/$shards: $(grep -E '^[0-9]+ propert[a-z]*: [0-9]+ pass' "$dir/run.log" | tail -n 1) (exit $status)"
  reports+=("$dir/report/report.json")
  if [ -d "$dir/pending" ]; then cp -R "$dir/pending/." "$run/merged/pending/"; fi
done

merge_status=0
"$conform" merge "${reports[@]}" --out "$run/merged/report" > "$run/merged/merge.log" 2>&1 || merge_status=$?
if [ "$merge_status" -ge 2 ]; then
  cat "$run/merged/merge.log" >&2
  exit 2
fi
say "merged: $(grep -E '^[0-9]+ propert[a-z]*: [0-9]+ pass' "$run/merged/merge.log" | tail -n 1) (exit $merge_status)"

summary="$run/merged/summary.md"
if [ -f "$previous/report/report.json" ]; then
  status=0
  "$conform" diff "$previous/report/report.json" "$run/merged/report/report.json" --format markdown \
    > "$summary" || status=$?
  if [ "$status" -ge 2 ]; then
    cat "$summary" >&2
    say "the previous merged report cannot be compared; move $previous away to start afresh"
    exit 2
  fi
else
  status=$merge_status
  {
    echo "### nightly-local: no previous merged report"
    echo
    echo "There is no previous merged report in \`$previous\` to compare with: every failure below is new, and this"
    echo "report becomes the previous one if no property fails."
    echo
    echo '```text'
    cat "$run/merged/merge.log"
    echo '```'
  } > "$summary"
fi
cat "$summary"

pending=$(find "$run/merged/pending" -name '*.json.new' | wc -l)
if [ "$pending" -gt 0 ]; then
  say "$pending pending corpus file(s) in $run/merged/pending: copy them into corpus/ and run \`conform review\`"
fi
if [ "$status" -eq 0 ]; then
  rm -rf "$previous"
  cp -R "$run/merged" "$previous"
  say "kept as the previous merged report: $previous/report/report.json"
else
  say "something got worse: the previous merged report stays $previous/report/report.json"
fi
exit "$status"
