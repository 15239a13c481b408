#!/usr/bin/env bash
# The view options of the plug-in families print what was configured, once (world rank 0,
# stdout), PETSc style: -reg_view, -problem_view, -hyper_view, -outer_view; -help lists every
# family's members (from the registries) and the view options; a bad member name is one
# error line.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

expect_line() {  # expect_line FILE TEXT [COUNT]: TEXT (fixed string) on exactly COUNT lines (default 1)
  local n
  n=$(grep -cF -- "$2" "$1" || true)
  [ "$n" -eq "${3:-1}" ] || fail "expected '$2' on ${3:-1} line(s) of $1, found $n:
$(cat "$1")"
}

small=(-problem denoise -problem_n 12 -data_samples 2 -data_noise 0.1)

# reconstruct: regulariser and forward model (foe with its bank and expert).
run 2 reconstruct "${small[@]}" -reg_type foe -reg_foe_expert huber -reg_foe_gamma 0.05 -reg_view -problem_view \
  >"$work/rec.out" 2>"$work/rec.err" || { cat "$work/rec.out" "$work/rec.err"; fail "reconstruct with views"; }
[ ! -s "$work/rec.err" ] || fail "reconstruct with views wrote to stderr: $(cat "$work/rec.err")"
expect_line "$work/rec.out" "Regulariser: foe"
expect_line "$work/rec.out" "filters: dct3, 8 of side 3 (fixed)"
expect_line "$work/rec.out" "expert: huber, gamma = 0.05"
expect_line "$work/rec.out" "theta (8): log10 w_1..w_8"
expect_line "$work/rec.out" "Forward model: denoise"
expect_line "$work/rec.out" "image 12 x 12"

# hypergrad on two sample groups: the estimator, viewed once although each group has its own.
run 2 hypergrad "${small[@]}" -reg_type tv -reg_tv_gamma 0.02 -samples_groups 2 -hyper_method fd -hyper_fd_step 1e-3 \
  -reg_view -hyper_view >"$work/hyp.out" 2>&1 || { cat "$work/hyp.out"; fail "hypergrad with views"; }
expect_line "$work/hyp.out" "Regulariser: tv"
expect_line "$work/hyp.out" "gamma = 0.02 (fixed)"
expect_line "$work/hyp.out" "Hypergradient estimator: fd"
expect_line "$work/hyp.out" "central differences, step 0.001"
run 1 hypergrad "${small[@]}" -hyper_view >"$work/imp.out" 2>&1 || { cat "$work/imp.out"; fail "hypergrad implicit"; }
expect_line "$work/imp.out" "Hypergradient estimator: implicit"
expect_line "$work/imp.out" "one KSP (prefix -hyper_) per sample"

# train: the outer optimiser and its loop; a view to a file (PETSc viewer syntax).
run 2 train --out "$work/run" "${small[@]}" -reg_type tikhonov -reg_tikhonov_operator gradient -outer_type lbfgs \
  -outer_max_it 1 -outer_view -reg_view "ascii:$work/reg.txt" >"$work/train.out" 2>&1 ||
  { cat "$work/train.out"; fail "train with views"; }
expect_line "$work/train.out" "Outer optimiser: lbfgs"
expect_line "$work/train.out" "max_it 1, gtol"
expect_line "$work/reg.txt" "Regulariser: tikhonov"
expect_line "$work/reg.txt" "L = forward-difference gradient"
grep -q "Regulariser:" "$work/train.out" && fail "-reg_view ascii:FILE also printed on stdout"

# Without the options nothing is viewed.
run 1 reconstruct "${small[@]}" >"$work/plain.out" 2>&1 || fail "reconstruct without views"
grep -q "Regulariser:\|Forward model:\|Hypergradient estimator:" "$work/plain.out" && fail "viewed without a view option"

# -help: the members of every family and the view options.
run 1 train --out "$work/help" "${small[@]}" -outer_max_it 0 -help >"$work/help.out" 2>&1 ||
  { cat "$work/help.out"; fail "train -help"; }
for listed in "tikhonov|tv|huber_tv|foe" "tomo|blur|inpaint|denoise|matrix" "implicit|fd|onestep|retune|unrolled" "gd|adam|lbfgs|fuse" \
  "-reg_view" "-problem_view" "-hyper_view" "-outer_view"; do
  grep -qF -- "$listed" "$work/help.out" || fail "-help lacks '$listed'"
done

expect_error 1 "unknown value 'nonesuch' for -reg_type (choose one of tikhonov, tv, huber_tv, foe)" \
  reconstruct "${small[@]}" -reg_type nonesuch
expect_error 1 "unknown value 'nonesuch' for -hyper_method (choose one of implicit, fd, onestep, retune, unrolled)" \
  hypergrad "${small[@]}" -hyper_method nonesuch
echo "view options: ok"
