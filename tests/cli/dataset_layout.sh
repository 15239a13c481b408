#!/usr/bin/env bash
# The HDF5 data set layout (docs/data_format.md), checked with hdf5-tools:
#  - `phantom` on 1, 2 and 3 ranks writes files of identical contents (h5diff: every dataset
#    and attribute, exact), for data on the image grid (denoise) and off it (tomo);
#  - a file written on any rank count, loaded with -data_file on each other rank count and
#    written again, is identical to the original (it reads back the same everywhere);
#  - h5diff does report a file that differs (another seed);
#  - the `h5dump -H` shown in docs/data_format.md is that of a file the documented command
#    writes today (the document cannot drift from the program).
# usage: bash dataset_layout.sh <bilearn> <mpiexec> [mpiexec flags...]
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
doc=$(dirname "$0")/../../docs/data_format.md
for tool in h5diff h5dump; do
  command -v "$tool" >/dev/null || fail "$tool is missing: install hdf5-tools (scripts/setup.sh)"
done

for problem in denoise tomo; do
  common=(-problem "$problem" -problem_n 24 -data_samples 2 -data_noise 0.03 -data_seed 4)
  for np in 1 2 3; do
    run "$np" phantom --out "$work/$problem-$np" "${common[@]}" >/dev/null ||
      fail "$problem: phantom on $np ranks exited with $?"
  done
  for np in 2 3; do
    h5diff "$work/$problem-1/dataset.h5" "$work/$problem-$np/dataset.h5" ||
      fail "$problem: dataset.h5 written on 1 and $np ranks differ"
  done
  for writer in 1 2 3; do
    for reader in 1 2 3; do
      [ "$reader" -ne "$writer" ] || continue
      again=$work/$problem-$writer-read-$reader
      run "$reader" phantom --out "$again" -problem "$problem" -problem_n 24 \
        -data_file "$work/$problem-$writer/dataset.h5" >/dev/null ||
        fail "$problem: the file written on $writer ranks does not load on $reader ranks"
      h5diff "$work/$problem-$writer/dataset.h5" "$again/dataset.h5" ||
        fail "$problem: the file written on $writer ranks reads back differently on $reader ranks"
    done
  done
  echo "ok: $problem data sets identical when written on 1, 2, 3 ranks and read back on any other"
done

run 2 phantom --out "$work/other-seed" -problem tomo -problem_n 24 -data_samples 2 -data_noise 0.03 \
  -data_seed 5 >/dev/null
if h5diff -q "$work/tomo-1/dataset.h5" "$work/other-seed/dataset.h5" >/dev/null 2>&1; then
  fail "h5diff finds no difference between data sets of different seeds"
fi
echo "ok: h5diff reports a file of another seed as different"

# The tomography geometry is stored: a file made with another geometry of the same data size
# is refused (60 angles x 34 rays against 34 angles x 60 rays; another detector width).
run 1 phantom --out "$work/geometry" -problem tomo -problem_n 24 -data_samples 1 -tomo_angles 60 >/dev/null
expect_error 2 "was made with -tomo_angles 60, this run has -tomo_angles 34" phantom --out "$work/g2" -problem tomo \
  -problem_n 24 -tomo_angles 34 -tomo_rays 60 -data_file "$work/geometry/dataset.h5"
expect_error 1 "was made with -tomo_width 33, this run has -tomo_width 30" phantom --out "$work/g3" -problem tomo \
  -problem_n 24 -tomo_angles 60 -tomo_width 30 -data_file "$work/geometry/dataset.h5"

# The documented h5dump -H: the block between the markers in docs/data_format.md, made by
# the command the document names (the first line after the begin marker's comment).
[ -f "$doc" ] || fail "$doc is missing"
shown=$work/doc-h5dump.txt
awk '/<!-- h5dump-H begin -->/{on=1; next} /<!-- h5dump-H end -->/{on=0} on && !/^```/' "$doc" >"$shown"
[ -s "$shown" ] || fail "$doc has no h5dump -H block between its markers"
run 2 phantom --out "$work/doc" -problem tomo -problem_n 32 -tomo_angles 60 -data_samples 2 >/dev/null
(cd "$work/doc" && h5dump -H dataset.h5) >"$work/real-h5dump.txt"
diff -u "$shown" "$work/real-h5dump.txt" ||
  fail "the h5dump -H in $doc differs from that of a file written today (update the document)"
echo "ok: the h5dump -H in docs/data_format.md is that of a real file"
