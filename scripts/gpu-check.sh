#!/usr/bin/env bash
# The GPU measurements of the webgpu backend, as one script for a machine with a GPU (an NVIDIA H200 through Vulkan,
# a Mac through Metal): the kernel bench, a d12 training bench, and d20-sized training steps, each beside native in
# the same run, with shares of the adapter's measured FMA peak; then decoding d20 and d32 on the GPU against its copy
# bandwidth, and a served load test. Random tokens and weights: no data set is needed.
#   bash scripts/gpu-check.sh [OUT_DIR]      (figures go to OUT_DIR/gpu-check.txt as well as the terminal)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-.}}"
mkdir -p "$out"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p .
{
  echo "# $(date -u +%FT%TZ) $(uname -srm)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
  lscpu | grep -m1 'Model name' || true
  node dist/src/main.js bench kernels --backend webgpu --reps 5
  node dist/src/main.js bench train --backend webgpu --depths 12 --rows 8 --steps 3
  node dist/src/main.js bench train --backend webgpu --depths 20 --rows 4 --steps 3
  node dist/src/main.js bench serve --backend webgpu --depths 20,32 --dtype f32 --duration 20 --batch 1,8
} 2>&1 | tee "$out/gpu-check.txt"
