#!/usr/bin/env bash
# The job scripts cluster_slurm.sh does not run, executed locally with fake scheduler environments
# (a temporary BILEARN_ROOT whose cluster/ is the repository's, so that runs/ lands there, and
# recorders in place of sbatch and qsub):
#  - cluster/slurm/sweep.sbatch OPTS...: array task i (SLURM_ARRAY_TASK_ID) trains with the i-th
#    file into runs/<file name>-<SLURM_ARRAY_JOB_ID>; a task index beyond the files is refused;
#  - cluster/pbs/train.pbs (qsub -v OPTS=…,OUT=…): the walltime watchdog (BILEARN_WALLTIME −
#    BILEARN_MARGIN seconds) stops the run with a checkpoint, the script queues a follow-up
#    train.pbs job, and that job resumes the run to its last step;
#  - cluster/pbs/sweep.pbs (qsub -v LIST=…): subjob i (PBS_ARRAY_INDEX) trains with line i+1.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
repo=$(cd "$(dirname "$0")/../.." && pwd)
root=$work/root
mkdir -p "$root"
ln -s "$repo/cluster" "$root/cluster"
for tool in sbatch qsub; do
  printf '#!/usr/bin/env bash\nprintf "%%s\\n" "$@" >"%s/%s.txt"\n' "$work" "$tool" >"$work/$tool"
  chmod +x "$work/$tool"
done
export BILEARN=$bilearn BILEARN_ROOT=$root BILEARN_MPIEXEC="$mpiexec ${flags[*]}" SBATCH=$work/sbatch QSUB=$work/qsub
# summary_is FILE REASON STEPS: summary.json's stop reason and number of outer steps.
summary_is() {
  python3 - "$@" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert (j["stop_reason"], j["outer_iterations"]) == (sys.argv[2], int(sys.argv[3])), (j["stop_reason"], j["outer_iterations"])
PY
}

# Slurm job array: task 1 of two option files (smoke and a 1-step variant of it).
sed 's/^-outer_max_it 2$/-outer_max_it 1/' "$repo/cluster/options/smoke.opts" >"$work/one_step.opts"
grep -q '^-outer_max_it 1$' "$work/one_step.opts" || fail "smoke.opts has no -outer_max_it 2 line"
(cd "$root" && SLURM_SUBMIT_DIR=$root SLURM_NTASKS=2 SLURM_JOB_ID=2002 SLURM_ARRAY_JOB_ID=2000 SLURM_ARRAY_TASK_ID=1 \
  bash cluster/slurm/sweep.sbatch cluster/options/smoke.opts "$work/one_step.opts") >"$work/sweep.log" 2>&1 ||
  { cat "$work/sweep.log"; fail "sweep.sbatch task 1"; }
summary_is "$root/runs/one_step-2000/summary.json" max_it 1 || fail "task 1 did not train with the second file"
[ ! -e "$root/runs/smoke-2000" ] || fail "task 1 trained with the first file too"
[ ! -e "$work/sbatch.txt" ] || fail "a finished task submitted a follow-up"
status=0
(cd "$root" && SLURM_NTASKS=2 SLURM_ARRAY_TASK_ID=2 bash cluster/slurm/sweep.sbatch cluster/options/smoke.opts) \
  >"$work/sweep2.log" 2>&1 || status=$?
[ "$status" -eq 2 ] && grep -q "array task 2, but only 1 option files" "$work/sweep2.log" ||
  fail "task 2 of one file: status $status, $(cat "$work/sweep2.log")"
echo "ok: sweep.sbatch"

# PBS: a run long enough for the watchdog (Adam with a tiny rate), stopped after 4 s.
long=$work/long.opts
sed 's/^-outer_max_it 2$/-outer_max_it 2000\n-outer_type adam\n-outer_adam_lr 1e-4/' \
  "$repo/cluster/options/smoke.opts" >"$long"
(cd "$root" && PBS_O_WORKDIR=$root PBS_JOBID=3001.server OPTS=$long OUT=$work/pbs BILEARN_WALLTIME=4 BILEARN_MARGIN=0 \
  bash cluster/pbs/train.pbs) >"$work/pbs1.log" 2>&1 || { cat "$work/pbs1.log"; fail "train.pbs"; }
steps=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["outer_iterations"])' "$work/pbs/summary.json")
summary_is "$work/pbs/summary.json" signal "$steps" || fail "the watchdog did not stop the run: $(cat "$work/pbs1.log")"
[ -e "$work/pbs/checkpoint/LATEST" ] || fail "no checkpoint after the watchdog"
expected=$(printf '%s\n' -W depend=afterany:3001.server -v "OPTS=$long,OUT=$work/pbs" "$root/cluster/pbs/train.pbs")
[ "$(cat "$work/qsub.txt")" = "$expected" ] || fail "follow-up queued as: $(cat "$work/qsub.txt")"
rm "$work/qsub.txt"
# The follow-up job, as PBS would run it (qsub -v sets OPTS and OUT), ends 2 steps later.
sed -i "s/^-outer_max_it 2000$/-outer_max_it $((steps + 2))/" "$long"
(cd "$root" && PBS_O_WORKDIR=$root PBS_JOBID=3002.server OPTS=$long OUT=$work/pbs bash cluster/pbs/train.pbs) \
  >"$work/pbs2.log" 2>&1 || { cat "$work/pbs2.log"; fail "the follow-up train.pbs"; }
grep -q "train --resume $work/pbs" "$work/pbs2.log" || fail "the follow-up did not resume: $(cat "$work/pbs2.log")"
summary_is "$work/pbs/summary.json" max_it $((steps + 2)) || fail "the resumed run did not finish"
[ ! -e "$work/qsub.txt" ] || fail "a finished run queued another job"
echo "ok: train.pbs (stopped after $steps steps, resumed to $((steps + 2)))"

# PBS array: subjob 0 of a list of one file.
echo "$work/one_step.opts" >"$work/list.txt"
(cd "$root" && PBS_O_WORKDIR=$root PBS_JOBID='4000[].server' PBS_ARRAY_INDEX=0 LIST=$work/list.txt \
  bash cluster/pbs/sweep.pbs) >"$work/psweep.log" 2>&1 || { cat "$work/psweep.log"; fail "sweep.pbs"; }
summary_is "$root/runs/one_step-4000[]/summary.json" max_it 1 || fail "sweep.pbs subjob 0: $(ls "$root/runs")"
echo "cluster_sweep_pbs: ok"
