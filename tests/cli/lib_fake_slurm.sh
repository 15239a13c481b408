# Sourced by the CLI tests of the cluster/slurm scripts (after lib_expect.sh's cli_init): a fake
# Slurm environment in which the scripts run locally. sbatch is a recorder that writes its
# arguments to $work/submitted.txt; BILEARN, BILEARN_ROOT and BILEARN_MPIEXEC point the scripts at
# this build and this launcher; SLURM_SUBMIT_DIR is the repository, SLURM_NTASKS 2. Sets $root.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cat >"$work/sbatch" <<'SH'
#!/usr/bin/env bash
printf '%s\n' "$@" >"$(dirname "$0")/submitted.txt"
SH
chmod +x "$work/sbatch"
export BILEARN=$bilearn BILEARN_ROOT=$root BILEARN_MPIEXEC="$mpiexec ${flags[*]}" SBATCH=$work/sbatch
export SLURM_SUBMIT_DIR=$root SLURM_NTASKS=2
