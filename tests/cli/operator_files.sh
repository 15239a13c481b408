#!/usr/bin/env bash
# `bilearn operator --write F` on 1, 2 and 3 ranks writes byte-identical files (natural rows
# and columns) for tomo (parallel and fan beam), blur, inpaint and denoise; the file has the
# PETSc binary AIJ size implied by the printed rows and nnz; the --json summary holds the
# common fields; and the file loaded back as `-problem matrix` (on another rank count) has
# the same size, nnz and norms.
# usage: bash operator_files.sh <bilearn> <mpiexec> [mpiexec flags...]
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
n=24

cases=(
  "tomo_parallel:-problem tomo -tomo_geometry parallel"
  "tomo_fan:-problem tomo -tomo_geometry fan -tomo_angles 90"
  "blur:-problem blur -blur_sigma 1.7 -blur_boundary reflexive"
  "blur_zero:-problem blur -blur_sigma 1.2 -blur_boundary zero"
  "inpaint:-problem inpaint -inpaint_fraction 0.4 -inpaint_seed 5"
  "denoise:-problem denoise"
)
for entry in "${cases[@]}"; do
  name=${entry%%:*}
  read -r -a options <<<"${entry#*:}"
  for np in 1 2 3; do
    out=$work/$name-$np
    run "$np" operator -problem_n $n "${options[@]}" --write "$out.bin" --json "$out.json" -strict_options >"$out.txt" ||
      fail "$name on $np ranks exited with $?"
    [ -s "$out.bin" ] || fail "$name on $np ranks wrote no operator file"
    grep -E '^  (rows|cols|nnz) ' "$out.txt" >"$out.sizes" || fail "$name on $np ranks printed no sizes"
  done
  for np in 2 3; do
    cmp -s "$work/$name-1.bin" "$work/$name-$np.bin" || fail "$name: operator file differs between 1 and $np ranks"
    cmp -s "$work/$name-1.sizes" "$work/$name-$np.sizes" || fail "$name: printed sizes differ between 1 and $np ranks"
  done
  python3 - "$work/$name-1.json" "$work/$name-1.bin" "$n" <<'PY' || fail "$name: bad JSON summary or file size"
import json, os, sys
j = json.load(open(sys.argv[1]))
for key in ("command", "ranks", "theta", "upper_loss", "krylov_iterations_total", "lower_iterations_total",
            "wall_seconds", "peak_rss_mb_max_rank", "problem", "rows", "cols", "nnz", "norm_frobenius", "norm_2",
            "assembly_seconds"):
    assert key in j, key
n = int(sys.argv[3])
assert j["command"] == "operator" and j["cols"] == n * n, j
assert 0 < j["norm_2"] <= j["norm_frobenius"] * (1 + 1e-12), j
# PETSc binary AIJ: class id, rows, cols, nnz (4-byte ints), row lengths, columns, doubles.
assert os.path.getsize(sys.argv[2]) == 16 + 4 * j["rows"] + 12 * j["nnz"], (os.path.getsize(sys.argv[2]), j)
PY
  # Load the file as a user matrix on 2 ranks: same sizes and norms.
  run 2 operator -problem matrix -problem_n $n -matrix_file "$work/$name-3.bin" --json "$work/$name-loaded.json" \
    >"$work/$name-loaded.txt" || fail "$name: loading the written file as -problem matrix failed"
  python3 - "$work/$name-1.json" "$work/$name-loaded.json" <<'PY' || fail "$name: the reloaded matrix differs"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for key in ("rows", "cols", "nnz"):
    assert a[key] == b[key], (key, a[key], b[key])
for key in ("norm_frobenius", "norm_2"):
    assert abs(a[key] - b[key]) <= 1e-5 * a[key], (key, a[key], b[key])
PY
  echo "ok: $name operator files identical on 1, 2, 3 ranks ($(tr -s ' \n' ' ' <"$work/$name-1.sizes"))"
done
