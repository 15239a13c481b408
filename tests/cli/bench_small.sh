#!/usr/bin/env bash
# bench operator and bench recycle-synthetic at small sizes on 2 ranks (seconds): each prints
# its table, writes its --json summary with a row per size / per solver, and reads every option
# given (-strict_options).
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

run 2 bench operator -problem denoise -bench_sizes 16,24 -bench_min_seconds 0.01 -bench_repeats 1 -bench_block 2 \
  --json "$work/op.json" -strict_options >"$work/op.txt" || fail "bench operator exited non-zero"
cat "$work/op.txt"
grep -q "^bench operator: -problem denoise, 2 ranks" "$work/op.txt" || fail "bench operator: no title line"
python3 - "$work/op.json" <<'PY' || fail "bench operator --json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["command"] == "bench operator" and j["ranks"] == 2 and j["problem"] == "denoise" and j["block"] == 2, j
assert [s["N"] for s in j["sizes"]] == [16, 24], j["sizes"]
PY

run 2 bench recycle-synthetic -bench_n 16 -bench_k 4 -bench_iterations 10 -bench_systems 3 \
  --json "$work/syn.json" -strict_options >"$work/syn.txt" || fail "bench recycle-synthetic exited non-zero"
cat "$work/syn.txt"
python3 - "$work/syn.json" <<'PY' || fail "bench recycle-synthetic --json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["command"] == "bench recycle-synthetic" and j["n"] == 16 and j["k"] == 4, j
per = j["seconds_per_iteration"]
for s in ["minres", "cg", "rminres_frozen", "rminres_update", "rcg_frozen", "rcg_update"]:
    assert per[s] > 0, (s, per)
seq = {r["solver"]: r for r in j["sequence"]}
for s in ["seq_minres", "seq_rminres", "seq_cg", "seq_rcg"]:
    assert len(seq[s]["iterations_per_system"]) == 3 and seq[s]["iterations"] > 0, seq
# recycling never needs more iterations than its plain method over the sequence
assert seq["seq_rminres"]["iterations"] <= seq["seq_minres"]["iterations"], seq
assert seq["seq_rcg"]["iterations"] <= seq["seq_cg"]["iterations"], seq
PY
expect_error 1 "-bench_sizes" bench operator -bench_sizes 0
expect_error 1 "-bench_n" bench recycle-synthetic -bench_n 2
echo "bench_small: ok"
