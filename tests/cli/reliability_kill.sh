#!/usr/bin/env bash
# kill -9 of a 2-rank `train` (tomography N = 24, FoE, 3 samples, 24 outer steps with a
# checkpoint after each, a recycling hypergradient KSP) at points drawn from seeds (an outer
# step, then a delay within it, so that the point does not depend on the machine's speed), then
# `train --resume`: after every kill the checkpoint folder holds only complete checkpoints (each
# file of a checkpoint-* folder has its manifest's size and checksum; LATEST names one of them; a
# checkpoint.tmp-* folder may be left, the next checkpoint removes it), no process of the killed
# run is left (this caught an old checkpoint half removed by a kill during its deletion), and the resumed run ends at the uninterrupted run's θ bit for bit (the resume
# restores the warm starts and recycle spaces: UpperProblem::save_state promises it).
# The kill takes the launcher and the ranks (Open MPI gives each rank a process group of its own:
# a process-group kill would leave them running); the order varies: all at once, the ranks
# first (a node lost), the launcher first. RELIABILITY_SEEDS="s1 s2 ..." picks other points.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
source "$(dirname "$0")/lib_reliability.sh"

steps=24
common=(-problem tomo -problem_n 24 -tomo_angles 30 -reg_type foe -data_samples 3 -lower_tao_gatol 1e-9
  -hyper_ksp_rtol 1e-10 -hyper_ksp_type rminres -outer_max_it $steps -strict_options)

run_bounded 300 "$work/full.log" train --out "$work/full" "${common[@]}" || { cat "$work/full.log"; fail "uninterrupted run"; }
expected=$(theta_of "$work/full/summary.json")
echo "uninterrupted run: theta $expected"

orders=(all ranks_first launcher_first)
i=0
for seed in ${RELIABILITY_SEEDS:-11 23 37}; do
  order=${orders[$((i % 3))]}
  i=$((i + 1))
  out=$work/run-$seed
  RANDOM=$seed
  start_job "$work/kill-$seed.log" train --out "$out" "${common[@]}"
  # Once step k is recorded (k >= 1: a checkpoint exists), plus a delay within the next step.
  kill_step=$((1 + RANDOM % (steps - 4)))
  delay_ms=$((RANDOM % 400))
  for _ in $(seq 1200); do
    [ -f "$out/history.csv" ] && [ "$(($(wc -l <"$out/history.csv") - 1))" -ge "$kill_step" ] && break
    kill -0 "$job" 2>/dev/null || break
    sleep 0.05
  done
  sleep "0.$(printf '%03d' "$delay_ms")"
  finished=no
  kill -0 "$job" 2>/dev/null || finished=yes
  kill_session "$job" "$order" 2>/dev/null
  rows=$(($(wc -l <"$out/history.csv") - 1))
  kept=$(verify_checkpoints "$out/checkpoint") || fail "seed $seed: a checkpoint is incomplete after the kill"
  echo "seed $seed: kill -9 ($order) $delay_ms ms after step $kill_step, at step $rows of $steps (finished before: $finished); kept: $kept"

  run_bounded 300 "$work/resume-$seed.log" train --resume "$out" "${common[@]}" ||
    { cat "$work/resume-$seed.log"; fail "seed $seed: the resume failed"; }
  if grep -q "warning" "$work/resume-$seed.log"; then fail "seed $seed: $(grep warning "$work/resume-$seed.log")"; fi
  got=$(theta_of "$out/summary.json")
  [ "$got" = "$expected" ] || fail "seed $seed: resumed theta $got, uninterrupted $expected"
  [ "$(($(wc -l <"$out/history.csv") - 1))" -eq $steps ] || fail "seed $seed: history.csv lacks rows"
  verify_checkpoints "$out/checkpoint" >/dev/null || fail "seed $seed: checkpoint after the resume"
done
echo "reliability_kill: ok"
