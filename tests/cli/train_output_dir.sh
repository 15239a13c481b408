#!/usr/bin/env bash
# `train --out DIR` never writes silently into an earlier run: a directory holding a finished
# run (summary.json) or one that can be resumed (a checkpoint-<n> folder) is refused with one
# error line and left exactly as it was, unless --resume continues it or --force replaces it
# (removing its checkpoints, which a later --resume would otherwise pick up). The leftovers of a
# run that stopped before its first checkpoint (initial PNGs, history.csv, a partial checkpoint
# write) hold nothing of value: a rerun replaces them, saying so in one line. A directory
# holding other files (a data set, truth PNGs) is not a run and is used as it is.
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

# Runs of value: a summary.json or a checkpoint-<n> folder (with or without other files) is refused,
# the folder left as it was.
for marker in summary.json checkpoint/checkpoint-000001; do
  d=$work/kept-${marker//\//_}
  mkdir -p "$d/checkpoint" "$(dirname "$d/$marker")"
  if [ "$marker" = summary.json ]; then echo x >"$d/$marker"; else mkdir "$d/$marker"; fi
  echo x >"$d/initial_000.png"
  kept_before=$(snapshot "$d")
  expect_error 1 "holds an earlier run" train --out "$d" "${small[@]}" -outer_max_it 1
  [ "$(snapshot "$d")" = "$kept_before" ] || fail "the refused train changed $d"
done

# The leftovers of a run that stopped before its first checkpoint hold nothing of value: a rerun
# without --force replaces them, saying so in one line. A real one: a 4-sample run whose first
# checkpoint fails (an injected full disk) leaves its PNGs, history.csv and an empty checkpoint/.
leftover_line="holds only the leftovers of a run that stopped before its first checkpoint"
status=0
BILEARN_TEST_WRITE_LIMIT=1 run 2 train --out "$work/failed" "${small[@]}" -data_samples 4 -outer_max_it 2 \
  >"$work/failed.log" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "the run with a full disk at its first checkpoint succeeded"
[ -e "$work/failed/initial_003.png" ] && [ -e "$work/failed/history.csv" ] || fail "the failed run left no pictures: $(ls "$work/failed")"
run 2 train --out "$work/failed" "${small[@]}" -outer_max_it 1 >"$work/rerun.log" 2>&1 ||
  fail "the rerun into the failed run's folder was refused: $(cat "$work/rerun.log")"
[ "$(grep -c "$leftover_line" "$work/rerun.log")" = 1 ] || fail "the rerun did not say it replaced the leftovers: $(cat "$work/rerun.log")"
[ ! -e "$work/failed/initial_003.png" ] && [ ! -e "$work/failed/truth_003.png" ] ||
  fail "the leftovers of the 4-sample run were kept beside the 2-sample run's files"
[ -s "$work/failed/summary.json" ] && [ -d "$work/failed/checkpoint/checkpoint-000001" ] || fail "the rerun did not finish"
# Made by hand: each of the files a run writes first, and a partial checkpoint write.
for marker in history.csv checkpoint initial_000.png checkpoint/checkpoint.tmp-000001; do
  d=$work/part-${marker//\//_}
  mkdir -p "$d"
  case $marker in
    checkpoint*) mkdir -p "$d/$marker" ;;
    *) echo x >"$d/$marker" ;;
  esac
  run 1 train --out "$d" "${small[@]}" -outer_max_it 1 >"$work/part.log" 2>&1 ||
    fail "train into $marker leftovers: $(cat "$work/part.log")"
  grep -q "$leftover_line" "$work/part.log" || fail "no line about the $marker leftovers: $(cat "$work/part.log")"
  [ ! -e "$d/checkpoint/checkpoint.tmp-000001" ] || fail "the partial checkpoint write was kept"
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
