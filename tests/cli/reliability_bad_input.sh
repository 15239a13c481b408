#!/usr/bin/env bash
# Bad input to `train` on 2 ranks, as a table: each case is one `bilearn: error:` line naming the
# problem, a non-zero exit, no traceback (lib_expect.sh), and nothing written: the inputs (data
# sets, an earlier run) are unchanged and a new --out folder is not even created. Then a full disk
# during a checkpoint, twice: injected (BILEARN_TEST_WRITE_LIMIT, see io/checked_file.hpp) so that
# the second checkpoint fails part-way, and, where mounting works (root), a real small tmpfs that
# fills up during the run; either way one error line, the previous checkpoint complete, no partial
# one left, and after space is freed the resume ends at the uninterrupted θ.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
source "$(dirname "$0")/lib_reliability.sh"
# The tmpfs mounts below go before the folder (a failed case must not leave them mounted).
trap 'umount "$work/ro" 2>/dev/null || true; umount "$work/disk" 2>/dev/null || true; rm -rf "$work"' EXIT

problem=(-problem tomo -problem_n 16 -tomo_angles 20 -data_samples 2)
small=("${problem[@]}" -reg_type tv -hyper_ksp_type rminres)
snapshot() { (cd "$1" && find . -type d | sort && find . -type f -exec md5sum {} + | sort); }

# Inputs: a data set and its damaged copies (h5py from Debian's python3-h5py: scripts/setup.sh).
run 2 phantom --out "$work/in" "${problem[@]}" >/dev/null || fail "phantom"
data=$work/in/dataset.h5
cp "$data" "$work/in/truncated.h5"
truncate -s $(($(stat -c %s "$data") / 2)) "$work/in/truncated.h5"
head -c 4096 /dev/urandom >"$work/in/garbled.h5"
/usr/bin/python3 - "$work/in" <<'PY' || fail "could not write the damaged data sets (python3-h5py missing? run scripts/setup.sh)"
import h5py, math, shutil, sys
d = sys.argv[1]
def variant(name, change):
    shutil.copy(d + "/dataset.h5", d + "/" + name)
    with h5py.File(d + "/" + name, "r+") as f:
        change(f)
variant("nan.h5", lambda f: f["data/sample_001"].__setitem__(5, math.nan))
variant("inf.h5", lambda f: f["truth/sample_000"].__setitem__(7, math.inf))
def shorten(f):
    v = f["data/sample_001"][:]
    del f["data/sample_001"]
    f["data/sample_001"] = v[:100]
variant("short.h5", shorten)
PY
run 2 train --out "$work/earlier" "${small[@]}" -outer_max_it 2 >/dev/null || fail "the earlier run"
touch "$work/a_file"
inputs_before=$(snapshot "$work/in")
earlier_before=$(snapshot "$work/earlier")

new=$work/new  # must never appear
table=(
  "data set file '$work/in/missing.h5' does not exist|-data_file $work/in/missing.h5"
  "cannot open matrix file '$work/in/missing.bin'|-problem matrix -matrix_file $work/in/missing.bin"
  "truth directory '$work/in/missing' does not exist or is not a directory|-data_truth_dir $work/in/missing"
  "-options_file: cannot read '$work/in/missing.opts'|-options_file $work/in/missing.opts"
  "data set file '$work/in' is not an HDF5 file|-data_file $work/in"
  "data set file '$work/in/truncated.h5' cannot be read: a damaged or truncated HDF5 file|-data_file $work/in/truncated.h5"
  "data set file '$work/in/garbled.h5' is not an HDF5 file|-data_file $work/in/garbled.h5"
  "holds 16x16 images, this run has -problem_n 24|-data_file $data -problem_n 24"
  "holds data vectors of size 460, the forward model|-data_file $data -tomo_angles 10"
  "/data/sample_001 has 100 values, expected 460|-data_file $work/in/short.h5"
  "/data/sample_001 contains NaN or Inf values|-data_file $work/in/nan.h5"
  "/truth/sample_000 contains NaN or Inf values|-data_file $work/in/inf.h5"
  "-problem_n must be >= 1, got 0|-problem_n 0"
  "-problem_n must be >= 1, got -4|-problem_n -4"
  "-data_samples must be >= 1, got 0|-data_samples 0"
  "-tomo_angles must be >= 1, got -3|-tomo_angles -3"
  "-outer_max_it must be >= 0, got -1|-outer_max_it -1"
  "-problem_n: Input string abc has no integer value|-problem_n abc"
  "-data_noise: Input string x1 has no numeric value|-data_noise x1"
  "-data_noise must be a finite number|-data_noise nan"
  "unknown value 'banana' for -reg_type|-reg_type banana"
  "unknown value 'sgdx' for -outer_type|-outer_type sgdx"
  "error: Unable to find requested Tao type nope|-lower_tao_type nope"
  "error: Unable to find requested KSP type bogus|-hyper_ksp_type bogus"
  "-reg_theta has 3 values, tv needs 1|-reg_theta 1,2,3"
  "-reg_theta: Input string abc has no numeric value|-reg_theta abc"
  "-reg_theta must contain finite numbers only|-reg_theta nan"
)
for row in "${table[@]}"; do
  read -r -a args <<<"${row#*|}"
  expect_error 2 "${row%%|*}" train --out "$new" "${small[@]}" "${args[@]}"
  if grep -q ' \[in ' "$work/expect_error.err"; then fail "a developer's call site in the error: $(cat "$work/expect_error.err")"; fi
  [ ! -e "$new" ] || fail "train ${args[*]} created $new"
  [ "$(snapshot "$work/in")" = "$inputs_before" ] || fail "train ${args[*]} changed its inputs"
done

# Output folders: unwritable, a file in the way, another run, nothing to resume.
expect_error 2 "cannot create output directory '/proc/bilearn-no/run' (" train --out /proc/bilearn-no/run "${small[@]}"
expect_error 2 "cannot create output directory '$work/a_file' (" train --out "$work/a_file" "${small[@]}"
expect_error 2 "'$work/earlier' holds an earlier run" train --out "$work/earlier" "${small[@]}"
expect_error 2 "no valid checkpoint in '$work/in/checkpoint'" train --resume "$work/in" "${small[@]}"
expect_error 2 "was written by -outer_type gd, this run uses -outer_type adam" \
  train --resume "$work/earlier" "${small[@]}" -outer_type adam -outer_max_it 3
[ "$(snapshot "$work/earlier")" = "$earlier_before" ] || fail "a refused run changed the earlier run"
if mkdir -p "$work/ro" && mount -t tmpfs -o ro,size=1m tmpfs "$work/ro" 2>/dev/null; then
  expect_error 2 "$work/ro" train --out "$work/ro" "${small[@]}"
  umount "$work/ro"
fi

# A full disk during a checkpoint, injected: checkpoint 2 fails part-way.
run 2 train --out "$work/ref" "${small[@]}" -outer_max_it 4 >/dev/null || fail "reference run"
run 2 train --out "$work/one" "${small[@]}" -outer_max_it 1 >/dev/null || fail "one step"
bytes=$(find "$work/one/checkpoint/checkpoint-000001" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
BILEARN_TEST_WRITE_LIMIT=$((bytes + bytes / 2)) expect_error 2 \
  "cannot write checkpoint checkpoint-000002 in '$work/full/checkpoint' (cannot write '$work/full/checkpoint/checkpoint.tmp-000002/" \
  train --out "$work/full" "${small[@]}" -outer_max_it 4
grep -q "No space left on device); the previous checkpoint is kept" "$work/expect_error.err" || fail "$(cat "$work/expect_error.err")"
[ "$(verify_checkpoints "$work/full/checkpoint")" = checkpoint-000001 ] || fail "checkpoint 1 is not the one kept"
[ -z "$(find "$work/full/checkpoint" -name 'checkpoint.tmp-*')" ] || fail "the partial checkpoint was left"
run 2 train --resume "$work/full" "${small[@]}" -outer_max_it 4 >/dev/null || fail "resume after the failed checkpoint"
[ "$(theta_of "$work/full/summary.json")" = "$(theta_of "$work/ref/summary.json")" ] || fail "resumed theta differs"

# A real full disk: a tmpfs with room for the inputs, one checkpoint and half of the next.
mkdir -p "$work/disk"
if mount -t tmpfs -o size=4m tmpfs "$work/disk" 2>/dev/null; then
  run 2 train --out "$work/disk/run" "${small[@]}" -outer_max_it 1 >/dev/null || fail "train on the tmpfs"
  used=$(du -sb "$work/disk/run" | cut -f1)
  ballast=$(($(df -B1 --output=avail "$work/disk" | tail -1) - used / 2))
  head -c "$ballast" /dev/zero >"$work/disk/ballast" 2>/dev/null || true
  expect_error 2 "No space left on device" train --resume "$work/disk/run" "${small[@]}" -outer_max_it 4
  verify_checkpoints "$work/disk/run/checkpoint" >/dev/null || fail "tmpfs: an incomplete checkpoint"
  [ -z "$(find "$work/disk/run/checkpoint" -name 'checkpoint.tmp-*')" ] || fail "tmpfs: the partial checkpoint was left"
  rm "$work/disk/ballast"
  run 2 train --resume "$work/disk/run" "${small[@]}" -outer_max_it 4 >/dev/null || fail "tmpfs: resume with space"
  [ "$(theta_of "$work/disk/run/summary.json")" = "$(theta_of "$work/ref/summary.json")" ] || fail "tmpfs: theta differs"
  umount "$work/disk"
else
  echo "reliability_bad_input: no tmpfs mount here (not root?): the injected full disk above stands for it"
fi
echo "reliability_bad_input: ok"
