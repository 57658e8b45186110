#!/usr/bin/env bash
# Runs conform's CUDA properties on a machine with an NVIDIA GPU and a Python torch==2.11.0 (+cu130) install but no
# Rust toolchain, with a conform binary built beforehand on any x86-64 Linux machine:
#
#   cargo build -p conform-harness && strip -o gpu/conform target/debug/conform   # here (optimised, ~4 MB stripped)
#   scripts/gpu-check.sh [BINARY] [OUT_DIR]  # there: defaults gpu/conform and results/gpu-<date>
#
# It fits in 5 minutes of GPU time: the properties share a 3-minute budget (CONFORM_BUDGET overrides it).
# OUT_DIR receives report.json, junit.xml, summary.txt, gpu.txt and, for a new failure, a pending corpus file.
# Exit status: conform's (0 conformant or only known deviations, 1 a new deviation, 2 CUDA not usable or bad input).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-gpu/conform}
out=${2:-results/gpu-$(date -u +%Y-%m-%d)}
python=${PYTHON:-python3}

torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') || {
  echo "error: $python cannot import torch (hint: pip install torch==2.11.0, or set PYTHON)" >&2; exit 2; }
version=$("$python" -c 'import torch; print(torch.__version__)')
case "$version" in
  2.11.0*) ;;
  *) echo "error: torch $version found, conform is built for libtorch 2.11.0 (hint: pip install torch==2.11.0)" >&2; exit 2 ;;
esac
[ -f "$torch_lib/libtorch_cuda.so" ] || { echo "error: $torch_lib has no libtorch_cuda.so: this torch is CPU-only" >&2; exit 2; }

# The binary's rpath names the build machine's .libtorch/: take libtorch from this torch install instead (the same
# 2.11.0 wheel), and load libtorch_cuda.so up front: rustc's --as-needed dropped it from the binary, so nothing else
# would load it and libtorch would report no CUDA.
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_PRELOAD="$torch_lib/libtorch_cuda.so${LD_PRELOAD:+ $LD_PRELOAD}"

mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.txt" 2>&1 || true
echo "torch $version from $torch_lib" >> "$out/gpu.txt"
status=0
"$bin" run --device cuda --budget "${CONFORM_BUDGET:-3m}" --corpus "$out/corpus" --known known-deviations.toml \
  --out "$out" --quiet > "$out/summary.txt" 2>&1 || status=$?
cat "$out/summary.txt"
exit "$status"
