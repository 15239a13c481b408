#!/usr/bin/env bash
# Sets up (Debian packages), builds, and runs the main job on built-in data on 2 ranks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
build=${BILEARN_BUILD_DIR:-$root/build}
out=${BILEARN_DEMO_OUT:-$root/out/demo}
mkdir -p "$out"
bash "$root/scripts/mpirun.sh" -n 2 "$build/bilearn" phantom --out "$out" -problem tomo -problem_n 64 -data_samples 4
bash "$root/scripts/mpirun.sh" -n 2 "$build/bilearn" operator --json "$out/operator.json" -problem tomo -problem_n 64
