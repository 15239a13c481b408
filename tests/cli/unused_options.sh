#!/usr/bin/env bash
# Options never read are reported after the command: a warning on stderr naming them (exit 0),
# or with -strict_options one error line and a non-zero exit. Options from -options_file count
# as given; PETSc's own options (-log_view, -options_left, -malloc_dump, -nox) and -help are
# never reported; an option read by one sample group only counts as read.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

small=(-problem denoise -problem_n 12 -data_samples 2 -data_noise 0.1 -reg_type tv)

# expect_warning NP NAMES ARGS...: exit 0, exactly one stderr line: the warning listing NAMES.
expect_warning() {
  local np=$1 names=$2
  shift 2
  "$mpiexec" -n "$np" "${flags[@]}" "$bilearn" "$@" >"$work/w.out" 2>"$work/w.err" || fail "bilearn $* exited non-zero"
  [ "$(wc -l <"$work/w.err")" -eq 1 ] || fail "bilearn $*: expected one warning line, got: $(cat "$work/w.err")"
  grep -q "^bilearn: warning: unused option.*: $names\$" "$work/w.err" || fail "bilearn $*: $(cat "$work/w.err")"
  echo "ok: bilearn $* (on $np rank(s)) -> $(cat "$work/w.err")"
}
# expect_quiet NP ARGS...: exit 0, nothing on stderr.
expect_quiet() {
  local np=$1
  shift
  "$mpiexec" -n "$np" "${flags[@]}" "$bilearn" "$@" >"$work/q.out" 2>"$work/q.err" || fail "bilearn $* exited non-zero"
  [ ! -s "$work/q.err" ] || fail "bilearn $*: stderr: $(cat "$work/q.err")"
  echo "ok: bilearn $* (on $np rank(s)): nothing on stderr"
}

expect_warning 2 "-typo_option" reconstruct "${small[@]}" -typo_option 3
expect_warning 1 "-lower_tao_gatoll -reg_tv_gama" reconstruct "${small[@]}" -reg_tv_gama 0.1 -lower_tao_gatoll 1e-9
expect_error 2 "unused option (misspelt, or not used by this run; \`bilearn <command> -help\` lists the options): -typo_option (-strict_options)" \
  reconstruct "${small[@]}" -typo_option 3 -strict_options
expect_error 1 "-typo_option" operator -problem blur -problem_n 12 -typo_option -strict_options
# An option of something the run does not use: phantom solves nothing.
expect_warning 1 "-lower_tao_gatol" phantom --out "$work/ph" "${small[@]:0:8}" -lower_tao_gatol 1e-9

# -options_file: its options are given options too.
printf '%s\n' "# a job file" "-problem_n 12" "-reg_tv_gama 0.2" >"$work/job.opts"
expect_warning 2 "-reg_tv_gama" reconstruct -problem denoise -data_samples 2 -reg_type tv -options_file "$work/job.opts"

# Never reported: PETSc's options, -help, and a clean run under -strict_options (also with
# sample groups, whose options are read by each group on its own ranks).
expect_quiet 2 reconstruct "${small[@]}" -log_view -options_left -malloc_dump -nox -strict_options
expect_quiet 2 hypergrad "${small[@]}" -samples_groups 2 -strict_options
expect_quiet 1 train --out "$work/run" "${small[@]}" -outer_max_it 1 -strict_options
expect_quiet 1 reconstruct "${small[@]}" -typo_option 3 -help
echo "unused_options: ok"
