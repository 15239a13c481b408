#!/usr/bin/env bash
# Shared by the job scripts of cluster/slurm and cluster/pbs; sourced (not run), so that the
# signal trap lives in the batch shell, which is what the scheduler signals:
#   source cluster/bilearn_job.sh
#   bilearn_train OPTIONS_FILE OUT_DIR [more bilearn options]   # status 0: done, 75: resume
# bilearn_train starts `train --out OUT_DIR`, or `train --resume OUT_DIR` when OUT_DIR holds a
# checkpoint, in the background and forwards SIGUSR1 and SIGTERM to it as SIGUSR1: bilearn then
# finishes its outer step, writes a checkpoint and exits 0 (Open MPI's mpirun passes SIGUSR1 on
# to the ranks). Returns 75 when the run was stopped that way (continue with the same call),
# 0 when it finished, bilearn's status otherwise.
# Environment: BILEARN (the program; default build/bilearn under BILEARN_ROOT), BILEARN_ROOT (the
# repository; default the submit directory), BILEARN_RANKS (ranks; default the scheduler's
# count), BILEARN_MPIEXEC (the launcher with its flags; default "mpiexec").

bilearn_root() { echo "${BILEARN_ROOT:-${SLURM_SUBMIT_DIR:-${PBS_O_WORKDIR:-$(pwd)}}}"; }

# bilearn_launch TAG COMMAND [ARGS]: runs `launcher -n RANKS bilearn COMMAND ARGS` in the
# background, forwards SIGUSR1 and SIGTERM to it as SIGUSR1 (the scheduler's warning: bilearn
# checkpoints and exits 0), waits for it and returns its status. TAG prefixes the log lines.
bilearn_launch() {
  local tag=$1
  shift
  local root program ranks status=0 pid
  root=$(bilearn_root)
  program=${BILEARN:-$root/build/bilearn}
  ranks=${BILEARN_RANKS:-${SLURM_NTASKS:-${PBS_NP:-2}}}
  read -r -a launcher <<<"${BILEARN_MPIEXEC:-mpiexec}"
  echo "$tag: $(date -u +%FT%TZ) ${launcher[*]} -n $ranks $program $*"
  "${launcher[@]}" -n "$ranks" "$program" "$@" &
  pid=$!
  # The scheduler's warning (Slurm: --signal=B:USR1@300; PBS: the watchdog below) or a SIGTERM.
  trap 'echo "'"$tag"': signal received, asking bilearn to checkpoint"; kill -USR1 "$pid" 2>/dev/null || true' USR1 TERM
  while :; do
    status=0
    wait "$pid" || status=$?
    kill -0 "$pid" 2>/dev/null || break # wait returns early when a trapped signal arrives
  done
  trap - USR1 TERM
  return "$status"
}

bilearn_train() {
  local opts=$1 out=$2
  shift 2
  local mode=--out status=0
  [ -r "$opts" ] || { echo "bilearn_train: cannot read option file '$opts'" >&2; return 2; }
  [ -e "$out/checkpoint/LATEST" ] && mode=--resume
  bilearn_launch bilearn_train train "$mode" "$out" -options_file "$opts" "$@" || status=$?
  [ "$status" -eq 0 ] || return "$status"
  if python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])).get("stop_reason") != "signal")' \
    "$out/summary.json" 2>/dev/null; then
    echo "bilearn_train: stopped by the signal, checkpoint written in $out/checkpoint: to be resumed"
    return 75
  fi
  return 0
}

# bilearn_watchdog SECONDS: sends this shell SIGUSR1 after SECONDS (for schedulers without a
# warning signal, PBS); the returned pid may be killed once the job is done.
bilearn_watchdog() {
  local shell=$$
  (sleep "$1" && kill -USR1 "$shell") >/dev/null 2>&1 &
  echo $!
}

# bilearn_serve SPOOL [more bilearn options]: a solver service on SPOOL (`serve --spool SPOOL
# --until-empty`) in the background, with the same signal forwarding as bilearn_train: on the
# scheduler's warning the running job checkpoints and the service exits 0. Returns 75 when jobs
# remain in the spool (queued, or running/ of a stopped service: continue with the same call),
# 0 when it is empty, bilearn's status otherwise.
bilearn_serve() {
  local spool=$1
  shift
  local status=0
  bilearn_launch bilearn_serve serve --spool "$spool" --until-empty "$@" || status=$?
  [ "$status" -eq 0 ] || return "$status"
  if [ -n "$(find "$spool/incoming" -maxdepth 1 -name '[!.]*.opts' 2>/dev/null)" ] ||
    [ -n "$(find "$spool/running" -mindepth 1 -maxdepth 1 2>/dev/null)" ]; then
    echo "bilearn_serve: jobs remain in $spool: to be continued"
    return 75
  fi
  return 0
}
