#!/usr/bin/env bash
# --help lists the commands of the command table (bench with the names of its benchmark
# table); -help prints the options of every command and every benchmark and exits 0 without
# running anything: no output files, no solve, no benchmark (bench recycle would train for
# minutes); -help without a command prints the --help text.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
cd "$work"  # bench recycle writes bench_recycle_run/ into the working directory when it runs

run 1 --help >usage.txt || fail "--help exited non-zero"
for c in phantom operator reconstruct hypergrad train bench; do
  grep -qE "^  $c +[a-z]" usage.txt || fail "--help does not list $c: $(cat usage.txt)"
done
run 1 bench -help >bench_help.txt 2>&1 || fail "bench -help exited non-zero"
benches=$(sed -n 's/^  \([a-z-]*\): .*/\1/p' bench_help.txt)
[ -n "$benches" ] || fail "bench -help lists no benchmark: $(cat bench_help.txt)"
listed=$(sed -n 's/^  bench .*: bench \(.*\) (bench -help.*/\1/p' usage.txt | tr -d ' ' | tr '|' '\n')
[ "$listed" = "$benches" ] || fail "--help lists the benchmarks '$listed', bench -help '$benches'"
grep -q "recycle-synthetic" <<<"$benches" || fail "recycle-synthetic missing from the benchmarks"
run 1 -help >dash_help.txt 2>&1 || fail "-help without a command exited non-zero"
grep -qE "^  train +bilevel" dash_help.txt || fail "-help without a command does not print the commands"

# help_of NP WORDS...: -help of one command on NP ranks: exit 0, nothing on stderr, the PETSc
# options printed, nothing run.
help_of() {
  local np=$1
  shift
  local err=$work/help.err
  out=$work/help_${np}_$(tr ' /' __ <<<"$*").txt  # global: the checks after help_of read it
  rm -rf "$work/out" bench_recycle_run
  "$mpiexec" -n "$np" "${flags[@]}" "$bilearn" "$@" -help >"$out" 2>"$err" || fail "$* -help exited non-zero: $(cat "$err")"
  [ ! -s "$err" ] || fail "$* -help wrote to stderr: $(cat "$err")"
  grep -q "^Options for all PETSc programs:" "$out" || fail "$* -help printed no options"
  [ ! -e "$work/out" ] || fail "$* -help created its output directory"
  [ ! -e bench_recycle_run ] || fail "$* -help ran the training of bench recycle"
  echo "ok: $* -help on $np rank(s) ($(wc -l <"$out") lines)"
}
# expect_in FILE TEXT...: each TEXT (fixed string) appears in FILE.
expect_in() {
  local f=$1
  shift
  for t in "$@"; do grep -qF -- "$t" "$f" || fail "$f lacks '$t'"; done
}
# expect_not_in FILE TEXT...: no TEXT appears in FILE (what the command prints when it runs).
expect_not_in() {
  local f=$1
  shift
  for t in "$@"; do if grep -qF -- "$t" "$f"; then fail "$f: '$t' (the command ran)"; fi; done
}

help_of 1 phantom --out "$work/out"
expect_in "$out" "-data_samples" "-problem_n"
expect_not_in "$out" "phantom: "
help_of 1 phantom  # --out is not needed for -help
help_of 2 operator --write "$work/out/A.bin"
expect_in "$out" "-tomo_angles"
expect_not_in "$out" "norm_2 "
for cmd in reconstruct hypergrad; do
  help_of 2 "$cmd" --out "$work/out" --json "$work/out/s.json"
  # the hypergradient KSPs, created at the first solve, are listed too
  expect_in "$out" "-reg_type" "-lower_tao_type" "-hyper_method" "-hyper_ksp_rtol" "-hyper_pc_type"
  expect_not_in "$out" "upper loss"
done
help_of 2 train --out "$work/out"
expect_in "$out" "-outer_max_it" "-hyper_ksp_type"
expect_not_in "$out" "train: "
help_of 1 train  # neither --out nor --resume is needed for -help
help_of 1 bench operator
expect_in "$out" "Operator benchmark (bilearn bench operator)"
expect_not_in "$out" "bench operator: -problem"
help_of 2 bench recycle --out "$work/out"
expect_in "$out" "-bench_methods" "-outer_max_it" "-hyper_ksp_type"
expect_not_in "$out" "bench recycle: "
help_of 1 bench recycle-synthetic
expect_in "$out" "Synthetic recycling benchmark"
expect_not_in "$out" "bench recycle-synthetic: "
help_of 1 bench hypergrad
expect_in "$out" "-bench_theta_shifts" "-hyper_method"
expect_not_in "$out" "bench hypergrad: " "implicit  "
for b in $benches; do help_of 1 bench "$b"; done

# -help prints the preconditioners actually used (it showed TAO's ilu for the Newton systems,
# solved with PC circulant, and circulant for a -hyper_ksp_type minres that runs without a PC):
# the value -help prints equals the type the solver's view reports after a solve.
small=(-problem tomo -problem_n 12 -tomo_angles 10 -data_samples 1 -reg_type tv)
help_default() {  # help_default FILE OPTION → the value after "<now "
  sed -n "s/^ *$2 <now \([^ ]*\) : .*/\1/p" "$1" | head -1
}
used_pc() {  # used_pc FILE PREFIX → the type of the first PC Object (PREFIX) in a view
  awk -v p="PC Object: ($2)" 'index($0, p) { found = 1; next } found && /type:/ { print $2; exit }' "$1"
}
check_pc() {  # check_pc TAO_TYPE_PREFIX HYPER? OPTIONS...: help's PC default = the PC in use
  local prefix=$1
  shift
  help_of 1 hypergrad "${small[@]}" "$@"
  local shown_lower shown_hyper
  shown_lower=$(help_default "$out" "-${prefix}pc_type")
  shown_hyper=$(help_default "$out" "-hyper_pc_type")
  run 1 hypergrad "${small[@]}" "$@" -lower_tao_view -hyper_ksp_view >"$work/view.txt" 2>&1 ||
    fail "hypergrad $*: $(cat "$work/view.txt")"
  [ -n "$shown_lower" ] && [ "$shown_lower" = "$(used_pc "$work/view.txt" "$prefix")" ] ||
    fail "$*: -help shows -${prefix}pc_type '$shown_lower', the solve used '$(used_pc "$work/view.txt" "$prefix")'"
  [ -n "$shown_hyper" ] && [ "$shown_hyper" = "$(used_pc "$work/view.txt" hyper_)" ] ||
    fail "$*: -help shows -hyper_pc_type '$shown_hyper', the solve used '$(used_pc "$work/view.txt" hyper_)'"
  echo "ok: $* -help shows the PCs in use: $shown_lower, $shown_hyper"
}
check_pc lower_tao_nls_
check_pc lower_tao_ntr_ -lower_tao_type ntr
check_pc lower_tao_nls_ -lower_tao_nls_ksp_type rminres -hyper_ksp_type minres
check_pc lower_tao_nls_ -lower_tao_nls_pc_type jacobi -hyper_ksp_type rminres
check_pc lower_tao_nls_ -lower_tao_nls_ksp_type rcg -lower_tao_nls_pc_type circulant -hyper_ksp_type minres -hyper_pc_type circulant

# A run directory is not refused for -help (nothing is written).
mkdir -p "$work/run" && echo x >"$work/run/summary.json"
run 1 train --out "$work/run" -help >/dev/null 2>&1 || fail "train -help refused an earlier run's directory"
expect_error 1 "unknown command 'nonesuch'" nonesuch
expect_error 1 "unknown benchmark 'nonesuch'" bench nonesuch
echo "help: ok"
