#!/usr/bin/env bash
# Helpers for the reliability tests (sourced after lib_expect.sh and cli_init, not a test):
#   start_job LOG ARGS...        bilearn ARGS on 2 ranks in a session of its own (setsid), in the
#                                background; sets job (the launcher's pid = the session id)
#   session_pids SID             every process of the session (the launcher and the ranks: Open
#                                MPI puts each rank in a process group of its own, so a process
#                                group kill misses them, but they stay in the launcher's session)
#   kill_session SID ORDER       kill -9 of the session: all at once, the ranks first or the
#                                launcher first; fails if any process is left after 20 s
#   wait_job SID SECONDS         waits for the launcher; on a timeout kills the session and fails
#   run_bounded SECONDS LOG ARGS...   start_job + wait_job; returns bilearn's status
#   verify_checkpoints ROOT      every checkpoint-* folder is complete (each file of its manifest
#                                has the listed size and checksum) and LATEST names one of them
#   theta_of SUMMARY             θ of a summary.json, exactly as written

start_job() {
  local log=$1
  shift
  setsid "$mpiexec" -n 2 "${flags[@]}" "$bilearn" "$@" >"$log" 2>&1 &
  job=$!
}

session_pids() {
  ps -e -o pid=,sid= | awk -v s="$1" '$2 == s { print $1 }'
}

# The launcher's children: the ranks.
rank_pids() {
  ps -e -o pid=,ppid= | awk -v p="$1" '$2 == p { print $1 }'
}

kill_session() {
  local sid=$1 order=$2 pids
  case $order in
    ranks_first) kill -9 $(rank_pids "$sid") 2>/dev/null || true ;;
    launcher_first) kill -9 "$sid" 2>/dev/null || true ;;
  esac
  pids=$(session_pids "$sid")
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  for _ in $(seq 200); do
    [ -z "$(session_pids "$sid")" ] && break
    sleep 0.1
  done
  [ -z "$(session_pids "$sid")" ] || fail "processes of the killed run are still alive: $(session_pids "$sid")"
  wait "$sid" 2>/dev/null || true
}

wait_job() {
  local sid=$1 seconds=$2 status=0
  for _ in $(seq $((seconds * 10))); do
    kill -0 "$sid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$sid" 2>/dev/null; then
    kill_session "$sid" all
    fail "the run did not end within $seconds s"
  fi
  wait "$sid" || status=$?
  # The launcher is gone: no rank may outlive it.
  for _ in $(seq 100); do
    [ -z "$(session_pids "$sid")" ] && break
    sleep 0.1
  done
  [ -z "$(session_pids "$sid")" ] || fail "ranks outlived the launcher: $(session_pids "$sid")"
  return "$status"
}

run_bounded() {
  local seconds=$1 log=$2
  shift 2
  start_job "$log" "$@"
  wait_job "$job" "$seconds"
}

verify_checkpoints() {
  PYTHONPATH="$(dirname "${BASH_SOURCE[0]}")" python3 - "$1" <<'PY'
import glob, json, os, sys
from checkpoint_checksum import checksum, manifest_checksum
root = sys.argv[1]
dirs = sorted(d for d in glob.glob(os.path.join(root, "checkpoint-*")) if os.path.isdir(d))
for d in dirs:
    m = json.load(open(os.path.join(d, "MANIFEST.json")))
    assert m["manifest_checksum"] == manifest_checksum(m["files"]), d + ": manifest checksum"
    names = {f["path"] for f in m["files"]}
    assert "state.json" in names, d + ": no state.json"
    for f in m["files"]:
        data = open(os.path.join(d, f["path"]), "rb").read()
        assert len(data) == f["size"], "%s/%s: %d bytes, manifest says %d" % (d, f["path"], len(data), f["size"])
        assert "%016x" % checksum(data) == f["checksum"], "%s/%s: checksum" % (d, f["path"])
    for dirpath, _, files in os.walk(d):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), d)
            assert rel == "MANIFEST.json" or rel in names, d + ": unlisted file " + rel
latest = os.path.join(root, "LATEST")
if os.path.exists(latest):
    name = open(latest).read().strip()
    assert os.path.join(root, name) in dirs, "LATEST names " + name + ", which is not a complete checkpoint"
print(" ".join(os.path.basename(d) for d in dirs))
PY
}

theta_of() {
  python3 -c 'import json, sys; print(repr(json.load(open(sys.argv[1]))["theta"]))' "$1"
}
