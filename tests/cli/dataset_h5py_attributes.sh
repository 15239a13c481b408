#!/usr/bin/env bash
# A data set whose attributes h5py wrote the way Python hands them over: a str becomes a
# variable-length UTF-8 string (PETSc's viewer reads fixed-length strings only: the reader failed
# with "Error in HDF5 call H5Aread() Status -1"), an int a 64-bit integer, a float a double.
# Such a file reconstructs exactly like the one `phantom` wrote, on 1 and 2 ranks. An attribute of
# the wrong kind (a number given as a string, a string as a number, a real where an integer
# belongs, an array, a bool) is one `bilearn: error:` line naming the attribute and what is
# expected. Needs Debian's python3-h5py (scripts/setup.sh).
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
"$py" -c "import numpy, h5py" 2>/dev/null || fail "$py lacks numpy or h5py: install python3-h5py (bash scripts/setup.sh)"

problem=(-problem tomo -problem_n 16 -tomo_angles 20 -data_samples 2)
run 2 phantom --out "$work/ph" "${problem[@]}" >/dev/null || fail "phantom"
"$py" - "$work" <<'PY' || fail "could not write the h5py data sets"
import h5py, shutil, sys
import numpy as np
d = sys.argv[1]
def variant(name, change):
    shutil.copy(d + "/ph/dataset.h5", d + "/" + name)
    with h5py.File(d + "/" + name, "r+") as f:
        change(f)
def pythonic(f):
    """Every attribute rewritten from a plain Python value (str, int, float)."""
    for key, value in list(f.attrs.items()):
        del f.attrs[key]
        if isinstance(value, bytes):
            f.attrs[key] = value.decode()
        elif isinstance(value, np.integer) or float(value).is_integer() and key != "noise":
            f.attrs[key] = int(value)
        else:
            f.attrs[key] = float(value)
variant("pythonic.h5", pythonic)
with h5py.File(d + "/pythonic.h5", "r") as f:
    kind = f.attrs.get_id("format").get_type()
    assert kind.is_variable_str(), "h5py wrote a fixed-length string"
    assert f.attrs.get_id("tomo_angles").get_type().get_class() == h5py.h5t.INTEGER
def replace(key, value):
    def change(f):
        del f.attrs[key]
        f.attrs[key] = value
    return change
variant("n_string.h5", replace("N", "16"))
variant("noise_string.h5", replace("noise", "0.01"))
variant("format_int.h5", replace("format", 1))
variant("n_real.h5", replace("N", 16.0))
variant("n_array.h5", replace("N", [16, 16]))
variant("seed_bool.h5", replace("seed", True))
variant("angles_string.h5", replace("tomo_angles", "20"))
PY

loss_of() { python3 -c 'import json, sys; print(repr(json.load(open(sys.argv[1]))["upper_loss"]))' "$1"; }
run 2 reconstruct "${problem[@]}" -data_file "$work/ph/dataset.h5" --json "$work/ref.json" >/dev/null ||
  fail "reconstruct from phantom's file"
for np in 1 2; do
  run "$np" reconstruct "${problem[@]}" -data_file "$work/pythonic.h5" --json "$work/py$np.json" >"$work/py.log" 2>&1 ||
    fail "reconstruct from the h5py file on $np rank(s): $(cat "$work/py.log")"
  [ "$(loss_of "$work/py$np.json")" = "$(loss_of "$work/ref.json")" ] ||
    python3 - "$work/py$np.json" "$work/ref.json" <<'PY' || fail "the h5py file reconstructs differently on $np rank(s)"
import json, sys
a, b = (json.load(open(f))["upper_loss"] for f in sys.argv[1:])
assert abs(a - b) <= 1e-9 * b, (a, b)
PY
done

f=$work
table=(
  "data set file '$f/n_string.h5': attribute 'N' is a string, expected an integer|n_string"
  "data set file '$f/noise_string.h5': attribute 'noise' is a string, expected a number|noise_string"
  "data set file '$f/format_int.h5': attribute 'format' is an integer, expected a string|format_int"
  "data set file '$f/n_real.h5': attribute 'N' is a real number, expected an integer|n_real"
  "data set file '$f/n_array.h5': attribute 'N' holds 2 values, expected a single value (an integer)|n_array"
  "data set file '$f/seed_bool.h5': attribute 'seed' is an enumeration (a boolean from h5py?), expected an integer|seed_bool"
  "data set file '$f/angles_string.h5': attribute 'tomo_angles' is a string, expected a number|angles_string"
)
for row in "${table[@]}"; do
  expect_error 2 "${row%%|*}" reconstruct "${problem[@]}" -data_file "$work/${row#*|}.h5"
done
echo "dataset_h5py_attributes: ok"
