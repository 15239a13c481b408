#!/usr/bin/env bash
# `train --out DIR` never writes silently into an earlier run: a directory holding a finished
# run, or the first files of an interrupted one, is refused with one error line and left
# exactly as it was, unless --resume continues it or --force replaces it (removing its
# checkpoints, which a later --resume would otherwise pick up). A directory holding other
# files (a data set, truth PNGs) is not a run and is used as it is.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

small=(-problem denoise -problem_n 12 -data_samples 2 -data_noise 0.1 -reg_type tv)
# snapshot DIR: every file with its checksum, and every folder (to compare before and after).
snapshot() { (cd "$1" && find . -type d | sort && find . -type f -exec md5sum {} + | sort); }

run 2 train --out "$work/run" "${small[@]}" -outer_max_it 3 >/dev/null || fail "first train"
[ -d "$work/run/checkpoint/checkpoint-000003" ] || fail "no checkpoint-000003 after 3 steps"
before=$(snapshot "$work/run")

# A finished run: refused on 1 and 2 ranks, nothing changes.
for np in 1 2; do
  expect_error "$np" "'$work/run' holds an earlier run (checkpoint/, history.csv, initial_*.png, summary.json);" \
    train --out "$work/run" "${small[@]}" -outer_max_it 1
  [ "$(snapshot "$work/run")" = "$before" ] || fail "the refused train changed $work/run"
done
# --force with bad input: the error comes first, the earlier run stays.
expect_error 2 "-outer_type" train --out "$work/run" --force "${small[@]}" -outer_type nonesuch
[ "$(snapshot "$work/run")" = "$before" ] || fail "a failed --force run changed $work/run"
expect_error 1 "--force" train --resume "$work/run" --force "${small[@]}"

# Interrupted runs: any one of the files a run writes first marks it.
for marker in summary.json history.csv checkpoint initial_000.png; do
  mkdir -p "$work/part-$marker"
  if [ "$marker" = checkpoint ]; then mkdir "$work/part-$marker/checkpoint"; else echo x >"$work/part-$marker/$marker"; fi
  expect_error 1 "holds an earlier run" train --out "$work/part-$marker" "${small[@]}" -outer_max_it 1
done

# Not a run: an empty directory, or one with a data set and truth PNGs (kept as they are).
mkdir -p "$work/empty"
run 1 train --out "$work/empty" "${small[@]}" -outer_max_it 1 >/dev/null || fail "train into an empty directory"
run 1 phantom --out "$work/data" -problem denoise -problem_n 12 -data_samples 2 -data_noise 0.1 >/dev/null || fail "phantom"
ls "$work/data"/truth_*.png >/dev/null || fail "phantom wrote no truth PNGs"
run 1 train --out "$work/data" "${small[@]}" -outer_max_it 1 >/dev/null || fail "train into a phantom directory"
[ -s "$work/data/dataset.h5" ] || fail "train removed the data set of its output directory"

# --force replaces the run: the 3-step run's checkpoints are gone, the new run's are there.
run 2 train --out "$work/run" --force "${small[@]}" -outer_max_it 1 >/dev/null || fail "train --force"
[ ! -e "$work/run/checkpoint/checkpoint-000003" ] || fail "--force left the earlier run's checkpoint-000003"
[ -d "$work/run/checkpoint/checkpoint-000001" ] || fail "--force run wrote no checkpoint"
python3 - "$work/run/summary.json" <<'PY' || fail "summary.json is not the new run's"
import json, sys
assert json.load(open(sys.argv[1]))["outer_iterations"] == 1
PY
# --resume continues it (no refusal).
run 1 train --resume "$work/run" "${small[@]}" -outer_max_it 2 >/dev/null || fail "train --resume"
echo "train_output_dir: ok"
