#!/usr/bin/env bash
# The user guide's "own data" and "own matrix" path (docs/user_guide.md sections 6 and 7):
# docs/examples/own_data.py reads a matrix that `operator --write` wrote, writes a matrix of its
# own (every second row) in PETSc's binary format and a training set in bilearn's HDF5 layout
# with h5py; bilearn reconstructs from them with -problem matrix -data_file, with the same
# losses on 1 and 3 ranks (to the solver tolerance), and trains. Needs Debian's python3 with numpy and h5py
# (python3-h5py, installed by scripts/setup.sh).
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
"$py" -c "import numpy, h5py" 2>/dev/null || fail "$py lacks numpy or h5py: install python3-h5py (bash scripts/setup.sh)"

run 2 operator -problem tomo -problem_n 16 -tomo_angles 20 --write "$work/A.bin" >/dev/null
"$py" "$root/docs/examples/own_data.py" "$work/A.bin" "$work" >"$work/py.log" || fail "own_data.py failed"
grep -q "^wrote .*sparse.bin (230 x 256, .* and .*own.h5 (3 samples, N = 16)" "$work/py.log" ||
  fail "own_data.py: $(cat "$work/py.log")"
mine=(-problem matrix -problem_n 16 -matrix_file "$work/sparse.bin" -data_file "$work/own.h5" -reg_type tv)
for np in 1 3; do
  run "$np" reconstruct "${mine[@]}" --json "$work/rec$np.json" >/dev/null || fail "reconstruct on $np rank(s)"
done
python3 - "$work/rec1.json" "$work/rec3.json" <<'PY' || fail "reconstruct: the losses differ between 1 and 3 ranks"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["problem"] == "matrix (%s)" % sys.argv[1].replace("rec1.json", "sparse.bin"), a["problem"]
assert abs(a["upper_loss"] - b["upper_loss"]) <= 1e-6 * a["upper_loss"], (a["upper_loss"], b["upper_loss"])
assert 0 < a["upper_loss"] < 1, a["upper_loss"]
PY
run 2 train --out "$work/run" "${mine[@]}" -outer_max_it 2 >/dev/null || fail "train on the own data"
python3 - "$work/run/summary.json" <<'PY' || fail "train on the own data did not reduce the loss"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["samples"] == 3 and j["upper_loss"] < j["initial_upper_loss"], j
PY
# A data set for another image size is refused in one line.
expect_error 1 "holds 16x16 images, this run has -problem_n 20" reconstruct -problem tomo -problem_n 20 -data_file "$work/own.h5"
echo "own data: ok"
