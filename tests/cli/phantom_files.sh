#!/usr/bin/env bash
# `bilearn phantom --out DIR` on 1, 2 and 3 ranks: the PNGs are byte-identical, the data
# sets have identical contents (reloaded with -data_file on another rank count, the
# per-sample checksums printed by the command agree), and bad input gives exactly one
# `bilearn: error:` line and a non-zero exit.
# usage: bash phantom_files.sh <bilearn> <mpiexec> [mpiexec flags...]
set -euo pipefail
bilearn=$1
mpiexec=$2
shift 2
flags=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
run() {  # run NP ARGS...: bilearn on NP ranks
  local np=$1
  shift
  "$mpiexec" -n "$np" "${flags[@]}" "$bilearn" "$@"
}

for problem in denoise tomo; do
  for np in 1 2 3; do
    out=$work/$problem-$np
    run "$np" phantom --out "$out" --json "$out.json" -problem "$problem" -problem_n 32 -data_samples 2 \
      -data_noise 0.05 -data_seed 3 >"$out.txt" || fail "$problem on $np ranks exited with $?"
    grep '^sample' "$out.txt" >"$out.samples" || fail "$problem on $np ranks printed no sample lines"
    [ "$(wc -l <"$out.samples")" -eq 2 ] || fail "$problem on $np ranks: expected 2 sample lines"
    for f in dataset.h5 truth_000.png truth_001.png data_000.png data_001.png; do
      [ -s "$out/$f" ] || fail "$problem on $np ranks did not write $f"
    done
    python3 - "$out.json" <<'EOF' || fail "$problem on $np ranks: bad JSON summary"
import json, sys
j = json.load(open(sys.argv[1]))
for key in ("command", "ranks", "theta", "upper_loss", "krylov_iterations_total", "lower_iterations_total",
            "wall_seconds", "peak_rss_mb_max_rank", "samples", "N", "noise"):
    assert key in j, key
assert j["command"] == "phantom" and j["samples"] == 2 and j["N"] == 32 and j["noise"] == 0.05
assert len(j["data_checksums"]) == 2
EOF
    # Reload the file on another rank count: same contents, so the same sample lines.
    reload_np=$((np % 3 + 1))
    run "$reload_np" phantom --out "$out-reload" -problem "$problem" -problem_n 32 -data_file "$out/dataset.h5" \
      >"$out.reload.txt" || fail "reloading $problem ($np ranks) on $reload_np ranks exited with $?"
    grep '^sample' "$out.reload.txt" >"$out.reload.samples" || true
    cmp -s "$out.samples" "$out.reload.samples" ||
      fail "$problem: data set written on $np ranks reads back differently on $reload_np ranks"
  done
  for np in 2 3; do
    cmp -s "$work/$problem-1.samples" "$work/$problem-$np.samples" ||
      fail "$problem: sample lines differ between 1 and $np ranks: $(diff "$work/$problem-1.samples" "$work/$problem-$np.samples")"
    for f in truth_000.png truth_001.png data_000.png data_001.png; do
      cmp -s "$work/$problem-1/$f" "$work/$problem-$np/$f" || fail "$problem: $f differs between 1 and $np ranks"
    done
  done
  echo "ok: $problem phantom files identical on 1, 2, 3 ranks"
done

# Bad input: one clear line, non-zero exit, no PETSc traceback.
expect_error() {  # expect_error TEXT ARGS...: bilearn on 2 ranks fails with TEXT in its one error line
  local text=$1
  shift
  local status=0
  run 2 "$@" >"$work/err.out" 2>"$work/err.txt" || status=$?
  [ "$status" -ne 0 ] || fail "bilearn $* succeeded"
  [ "$(grep -c '^bilearn: error:' "$work/err.txt")" -eq 1 ] ||
    fail "bilearn $*: expected one error line, got: $(cat "$work/err.txt")"
  if grep -qi 'petsc error\|traceback\|terminate called' "$work/err.txt"; then
    fail "bilearn $*: traceback on stderr: $(cat "$work/err.txt")"
  fi
  grep -q -- "^bilearn: error: .*$text" "$work/err.txt" || fail "bilearn $*: error line lacks '$text': $(cat "$work/err.txt")"
}
expect_error "--out" phantom -problem tomo -problem_n 32
expect_error "-data_noise" phantom --out "$work/bad" -problem tomo -problem_n 32 -data_noise -0.1
expect_error "-data_samples" phantom --out "$work/bad" -problem tomo -problem_n 32 -data_samples 0
expect_error "-data_phantom" phantom --out "$work/bad" -problem tomo -problem_n 32 -data_phantom banana
expect_error "missing.h5" phantom --out "$work/bad" -problem tomo -problem_n 32 -data_file "$work/missing.h5"
expect_error "-problem_n 24" phantom --out "$work/bad" -problem tomo -problem_n 24 -data_file "$work/tomo-1/dataset.h5"
expect_error "forward model" phantom --out "$work/bad" -problem denoise -problem_n 32 -data_file "$work/tomo-1/dataset.h5"
echo "ok: bad input gives one error line"
