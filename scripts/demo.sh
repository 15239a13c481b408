#!/usr/bin/env bash
# Sets up (Debian packages), builds, and runs the main job on built-in data on 2 ranks.
# Extra arguments are passed on to train (later options override earlier ones).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# BILEARN_DEMO_BIN=path/to/bilearn: run that program, without setup and build (the tests do).
program=${BILEARN_DEMO_BIN:-}
if [ -z "$program" ]; then
  bash "$root/scripts/setup.sh"
  bash "$root/scripts/build.sh"
  program=${BILEARN_BUILD_DIR:-$root/build}/bilearn
fi
out=${BILEARN_DEMO_OUT:-$root/out/demo}
mkdir -p "$out"
# Bilevel learning of 8 fields-of-experts weights for tomography (64×64, 60 angles) from
# 4 built-in random-ellipse phantoms; initial, learned and true images land in $out (a run
# left there by an earlier demo is replaced: --force).
bash "$root/scripts/mpirun.sh" -n 2 "$program" train --out "$out" --force -problem tomo -problem_n 64 \
  -tomo_angles 60 -data_samples 4 -data_noise 0.02 -reg_type foe -outer_max_it 15 "$@"
