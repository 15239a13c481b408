#!/usr/bin/env bash
# bilearn train end to end on a small tomography problem: the run reduces the upper loss,
# writes its files, and a run stopped after 2 steps and resumed (on another rank count)
# ends with the θ of an uninterrupted 4-step run. history.png is a complete 900×720 PNG,
# redrawn by the resumed run; reconstructions.png (truth | initial | learned of each sample)
# is a complete PNG whose titles, printed by train, carry the PSNRs of summary.json (the
# resumed run solves the initial reconstructions again: same PSNRs). Without PLplot's driver
# the run stops with one error line. The hypergradient KSP is a recycling one (rminres):
# checkpoints carry every sample's recycle space (space_*.bin), so the first solve after a
# resume starts from the same space as in the uninterrupted run; a damaged space file makes the
# resume fall back to the previous checkpoint (or fail cleanly if there is none), and a
# checkpoint without space files (written before spaces were saved) still resumes.
# Bad input to train fails cleanly.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

# png_size FILE: prints "WIDTH HEIGHT" from the IHDR chunk; fails unless FILE starts with the
# PNG signature and IHDR and ends with the IEND chunk (a complete file).
png_size() {
  [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
  [ "$(od -An -c -j12 -N4 "$1" | tr -d ' \n')" = IHDR ] || return 1
  [ "$(tail -c 12 "$1" | od -An -tx1 | tr -d ' \n')" = 0000000049454e44ae426082 ] || return 1
  local b
  read -r -a b < <(od -An -tu1 -j16 -N8 "$1" | tr -s ' \n' ' ')
  echo "$(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3])) $(((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]))"
}
check_png() {  # check_png FILE "WIDTH HEIGHT"
  [ -s "$1" ] || fail "train did not write $1"
  [ ! -e "$1.tmp" ] || fail "$1.tmp left behind"
  local size
  size=$(png_size "$1") || fail "$1 is not a complete PNG file"
  [ "$size" = "$2" ] || fail "$1 is $size pixels, expected $2"
}
check_plot() {  # check_plot DIR
  check_png "$1/history.png" "900 720"
}
# check_reconstructions DIR LOG: reconstructions.png of 2 samples (3 tiles of 256 pixels a row)
# and the titles train printed for it agree with the PSNRs in summary.json.
check_reconstructions() {
  check_png "$1/reconstructions.png" "848 594"
  python3 - "$1/summary.json" "$2" <<'PY' || fail "$1: reconstructions.png titles do not match summary.json"
import json, re, sys
j = json.load(open(sys.argv[1]))
lines = [l.strip() for l in open(sys.argv[2]) if re.match(r"^  sample \d+: truth \|", l)]
assert len(lines) == 2, lines
for s, line in enumerate(lines):
    expect = "sample %d: truth | initial: PSNR %.2f dB | learned: PSNR %.2f dB" % (
        s, j["initial_sample_psnr"][s], j["sample_psnr"][s])
    assert line == expect, (line, expect)
PY
}

# -lower_batch false: the -samples_groups 2 run is compared with the one-group run at 1e-10, and a
# batch's lower iterates depend on the grouping (docs/algorithms.md §4.7); cli_train_lower_batch
# covers the batch.
common=(-problem tomo -problem_n 20 -tomo_angles 30 -reg_type tv -reg_tv_learn_gamma -data_samples 2
  -lower_tao_gatol 1e-9 -hyper_ksp_rtol 1e-10 -hyper_ksp_type rminres -outer_adaptive_tol false -lower_batch false)

# same_theta A B [TOL]: the θ of two summary.json files agree to TOL relative (0: bitwise), by
# default 1e-12 (the issue's bar): a resumed recycling KSP gets back its basis Ũ, the carried F·Ũ
# of the split and whether Ũ came from its update, so its first solve prepares the same space.
same_theta() {
  python3 - "$1" "$2" "${3:-1e-12}" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["theta"]
b = json.load(open(sys.argv[2]))["theta"]
tol = float(sys.argv[3])
assert len(a) == len(b), (a, b)
for x, y in zip(a, b):
    assert abs(x - y) <= tol * max(1.0, abs(x)), (a, b)
PY
}

# krylov_at CSV ITERATION: the krylov_iterations column of that row of a history.csv.
krylov_at() {
  awk -F, -v it="$2" 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "krylov_iterations") c = i }
                      NR > 1 && $1 == it { print $c }' "$1"
}

# space_count FILE: the number of vectors a space_*.bin declares (big-endian header: magic, version, count, rows).
space_count() {
  python3 - "$1" <<'PY'
import sys
h = open(sys.argv[1], "rb").read(32)
w = 8 if int.from_bytes(h[0:4], "big") == 0 else 4  # PetscInt of 64 or 32 bits
print(int.from_bytes(h[2 * w:3 * w], "big"))
PY
}

run 2 train --out "$work/full" "${common[@]}" -outer_max_it 4 >"$work/full.log"
for f in summary.json history.csv history.png initial_000.png learned_000.png truth_000.png; do
  [ -s "$work/full/$f" ] || fail "train did not write $f"
done
check_plot "$work/full"
check_reconstructions "$work/full" "$work/full.log"
[ "$(wc -l <"$work/full/history.csv")" -eq 5 ] || fail "history.csv should have a header and 4 rows"
head -1 "$work/full/history.csv" | grep -q '^iteration,upper_loss,grad_norm,step,backtracks,krylov_iterations,lower_iterations,seconds' ||
  fail "history.csv header"

python3 - "$work/full/summary.json" <<'PY' || fail "summary.json contents"
import json, sys
j = json.load(open(sys.argv[1]))
for key in ["command", "ranks", "theta", "upper_loss", "krylov_iterations_total", "lower_iterations_total",
            "wall_seconds", "peak_rss_mb_max_rank", "initial_upper_loss", "outer_iterations",
            "armijo_backtracks_total"]:
    assert key in j, key
assert j["outer_iterations"] == 4
assert j["upper_loss"] < j["initial_upper_loss"], (j["upper_loss"], j["initial_upper_loss"])
PY

# Stopped after 2 steps on 2 ranks, resumed on 1.
run 2 train --out "$work/part" "${common[@]}" -outer_max_it 2 >"$work/part.log"
check_plot "$work/part"
cp "$work/part/history.png" "$work/part-2-steps.png"
for s in 0 1; do
  f=$work/part/checkpoint/checkpoint-000002/problem/space_0000$s.bin
  [ -s "$f" ] || fail "the checkpoint lacks the recycle space of sample $s ($f)"
  [ "$(space_count "$f")" -gt 0 ] || fail "the recycle space of sample $s in the checkpoint is empty"
done
cp -r "$work/part" "$work/damaged" # for the damaged-file cases below
cp -r "$work/part" "$work/damaged_all"
cp -r "$work/part" "$work/old"     # for the checkpoint without spaces
run 1 train --resume "$work/part" "${common[@]}" -outer_max_it 4 >"$work/resume.log"
check_plot "$work/part"
! cmp -s "$work/part/history.png" "$work/part-2-steps.png" || fail "the resumed run did not redraw history.png"
same_theta "$work/full/summary.json" "$work/part/summary.json" || fail "resumed theta differs from the uninterrupted run"
check_reconstructions "$work/part" "$work/resume.log"
python3 - "$work/full/summary.json" "$work/part/summary.json" <<'PY' || fail "resumed run: initial PSNRs differ"
import json, sys
a = json.load(open(sys.argv[1]))["initial_sample_psnr"]
b = json.load(open(sys.argv[2]))["initial_sample_psnr"]
assert len(a) == len(b) == 2 and all(abs(x - y) < 1e-6 for x, y in zip(a, b)), (a, b)
PY

# Without recycling the resumed run differs from the uninterrupted one by round-off only.
run 2 train --out "$work/mfull" "${common[@]}" -hyper_ksp_type minres -outer_max_it 4 >/dev/null
run 2 train --out "$work/mpart" "${common[@]}" -hyper_ksp_type minres -outer_max_it 2 >/dev/null
run 1 train --resume "$work/mpart" "${common[@]}" -hyper_ksp_type minres -outer_max_it 4 >/dev/null
same_theta "$work/mfull/summary.json" "$work/mpart/summary.json" 1e-12 || fail "minres: resumed theta differs"

# The first step after the resume starts its solves from the saved spaces: it needs about as
# many Krylov iterations as in the uninterrupted run (without the spaces: 1.6 times as many).
# Not exactly as many: the KSP carries more than the basis Ũ to its next solve (products H·Ũ
# or F·Ũ, which columns came from its update), and the first resumed solve recomputes those.
its_full=$(krylov_at "$work/full/history.csv" 3)
its_resumed=$(krylov_at "$work/part/history.csv" 3)
[ "$its_resumed" -le $((its_full + its_full / 10 + 2)) ] ||
  fail "the first step after the resume took $its_resumed Krylov iterations, the uninterrupted run" \
    "$its_full (recycle space not restored?)"

# One KSP (one space) per group (-hyper_share_space): saved once, with the group's first sample.
run 2 train --out "$work/sfull" "${common[@]}" -hyper_share_space -outer_max_it 4 >/dev/null
run 2 train --out "$work/spart" "${common[@]}" -hyper_share_space -outer_max_it 2 >/dev/null
[ "$(space_count "$work/spart/checkpoint/checkpoint-000002/problem/space_00000.bin")" -gt 0 ] ||
  fail "-hyper_share_space: the shared space was not saved"
[ "$(space_count "$work/spart/checkpoint/checkpoint-000002/problem/space_00001.bin")" -eq 0 ] ||
  fail "-hyper_share_space: the shared space was saved twice"
run 1 train --resume "$work/spart" "${common[@]}" -hyper_share_space -outer_max_it 4 >/dev/null
same_theta "$work/sfull/summary.json" "$work/spart/summary.json" || fail "-hyper_share_space: resumed theta differs"

# Sample groups: each group writes its own samples' spaces; resumed as one group on 3 ranks. The
# reference is the one-group run: two groups reduce in another order (round-off), which the
# recycled solves' drop decisions can lift to the level of -hyper_ksp_rtol, hence 1e-10.
run 2 train --out "$work/gpart" "${common[@]}" -samples_groups 2 -outer_max_it 2 >/dev/null
run 3 train --resume "$work/gpart" "${common[@]}" -outer_max_it 4 >/dev/null
same_theta "$work/full/summary.json" "$work/gpart/summary.json" 1e-10 || fail "-samples_groups 2: resumed theta differs"

# A truncated space file in the newest checkpoint: the checkpoint's checksums catch it, the run
# warns, resumes from the previous checkpoint and still ends at the uninterrupted θ.
space=problem/space_00001.bin
truncate -s 100 "$work/damaged/checkpoint/checkpoint-000002/$space"
run 1 train --resume "$work/damaged" "${common[@]}" -outer_max_it 4 >"$work/damaged.log" 2>"$work/damaged.err"
grep -q "^bilearn: warning: checkpoint '.*checkpoint-000002' is damaged ($space: size 100, .*using checkpoint-000001" \
  "$work/damaged.err" || fail "no warning about the damaged space file: $(cat "$work/damaged.err")"
# (from checkpoint 1 on another rank count: three recycled steps of round-off, hence 1e-10)
same_theta "$work/full/summary.json" "$work/damaged/summary.json" 1e-10 || fail "resumed from checkpoint 1: theta differs"
# Every checkpoint damaged: one clear error line.
for n in 1 2; do truncate -s 100 "$work/damaged_all/checkpoint/checkpoint-00000$n/$space"; done
expect_error 2 "$space: size 100" train --resume "$work/damaged_all" "${common[@]}" -outer_max_it 4

# A checkpoint written before recycle spaces were saved (no space_*.bin) still resumes.
PYTHONPATH="$(dirname "$0")" python3 - "$work/old/checkpoint" <<'PY' || fail "could not make a checkpoint without spaces"
import glob, json, os, sys
from checkpoint_checksum import manifest_checksum
for d in glob.glob(os.path.join(sys.argv[1], "checkpoint-*")):
    m = json.load(open(os.path.join(d, "MANIFEST.json")))
    for f in m["files"]:
        if "/space_" in f["path"]:
            os.remove(os.path.join(d, f["path"]))
    m["files"] = [f for f in m["files"] if "/space_" not in f["path"]]
    m["manifest_checksum"] = manifest_checksum(m["files"])
    json.dump(m, open(os.path.join(d, "MANIFEST.json"), "w"), indent=1)
PY
[ -z "$(find "$work/old/checkpoint" -name 'space_*')" ] || fail "space files left in the old checkpoint"
run 1 train --resume "$work/old" "${common[@]}" -outer_max_it 4 >"$work/old.log" 2>"$work/old.err"
if grep -q "warning" "$work/old.err"; then fail "the checkpoint without spaces was not used: $(cat "$work/old.err")"; fi
same_theta "$work/full/summary.json" "$work/old/summary.json" 1e-10 || fail "resumed without spaces: theta differs"

PLPLOT_DRV_DIR=$work/no-drivers expect_error 2 "plplot-driver-cairo" train --out "$work/nodriver" "${common[@]}"
expect_error 2 "--out" train "${common[@]}"
expect_error 2 "-outer_type" train --out "$work/bad" "${common[@]}" -outer_type sgdx
expect_error 1 "-reg_theta" train --out "$work/bad" "${common[@]}" -reg_theta 1,2,3
echo "train_resume: ok"
