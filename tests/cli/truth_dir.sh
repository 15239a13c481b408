#!/usr/bin/env bash
# Real data: `bilearn phantom -data_truth_dir DIR` reads 8/16-bit greyscale PNG (plain and
# interlaced) and TIFF (strips and tiles, both byte orders) ground truths (written by
# make_truth_images.py with the standard library only) and simulates the data.
#  - 1, 2 and 3 ranks give data set files of identical contents (h5diff) and identical PNGs;
#  - the truths read back from dataset.h5 (h5dump -b) equal the stored levels g / (2^bits - 1);
#  - the measured noise level is the requested one; -data_samples takes the first S images;
#  - bad input (missing or empty directory, not an image, truncated PNG and TIFF, colour, a
#    refused bit depth or sample format, wrong size, mixed sizes, too many samples, -data_file
#    with -data_truth_dir) is one `bilearn: error:` line and a non-zero exit.
# usage: bash truth_dir.sh <bilearn> <mpiexec> [mpiexec flags...]
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
make_images=(/usr/bin/python3 "$(dirname "$0")/make_truth_images.py")
for tool in h5diff h5dump; do
  command -v "$tool" >/dev/null || fail "$tool is missing: install hdf5-tools (scripts/setup.sh)"
done

n=24
truth=$work/truth
mkdir -p "$truth"
"${make_images[@]}" good "$truth" "$n"
echo "not an image: ignored" >"$truth/README.txt"
mkdir "$truth/sub.png"  # a directory with an image name: ignored too

for np in 1 2 3; do
  out=$work/tomo-$np
  run "$np" phantom --out "$out" --json "$out.json" -problem tomo -problem_n "$n" -data_truth_dir "$truth" \
    -data_noise 0.02 -data_seed 5 >"$out.txt" || fail "phantom -data_truth_dir on $np ranks exited with $?"
  [ "$(grep -c '^sample' "$out.txt")" -eq 5 ] || fail "$np ranks: expected 5 sample lines: $(cat "$out.txt")"
  grep -q "truth_dir:$truth" "$out.txt" || fail "$np ranks: the header does not name the truth directory"
done
for np in 2 3; do
  h5diff "$work/tomo-1/dataset.h5" "$work/tomo-$np/dataset.h5" ||
    fail "dataset.h5 written on 1 and $np ranks differ"
  for f in truth_000.png truth_004.png data_000.png data_004.png; do
    cmp -s "$work/tomo-1/$f" "$work/tomo-$np/$f" || fail "$f differs between 1 and $np ranks"
  done
done
echo "ok: phantom from a truth directory: identical data sets and PNGs on 1, 2, 3 ranks"

# The truths in the file are the stored levels scaled by 1/(2^bits - 1), in natural order.
raws=()
for s in 0 1 2 3 4; do
  raw=$work/truth_$s.raw
  h5dump -d "/truth/sample_00$s" -b LE -o "$raw" "$work/tomo-2/dataset.h5" >/dev/null ||
    fail "h5dump could not extract /truth/sample_00$s"
  raws+=("$raw")
done
"${make_images[@]}" check "$truth" "$n" "${raws[@]}" || fail "the truths read back differ from the images"

/usr/bin/python3 - "$work/tomo-1.json" <<'EOF' || fail "bad JSON summary or noise level"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["samples"] == 5 and j["N"] == 24, j
assert j["phantom"].startswith("truth_dir:"), j["phantom"]
for level in j["noise_levels"]:
    assert abs(level - 0.02) < 0.002, j["noise_levels"]
EOF

# -data_samples S takes the first S images; the same as the first S of the full set.
run 2 phantom --out "$work/first2" -problem tomo -problem_n "$n" -data_truth_dir "$truth" -data_samples 2 \
  -data_noise 0.02 -data_seed 5 >"$work/first2.txt"
[ "$(grep -c '^sample' "$work/first2.txt")" -eq 2 ] || fail "-data_samples 2: expected 2 sample lines"
diff <(grep '^sample' "$work/first2.txt") <(grep '^sample' "$work/tomo-1.txt" | head -2) >/dev/null ||
  fail "-data_samples 2 does not give the first two samples of the full set"
# A different seed makes different data: h5diff does see differences.
run 1 phantom --out "$work/seed6" -problem tomo -problem_n "$n" -data_truth_dir "$truth" -data_noise 0.02 \
  -data_seed 6 >/dev/null
if h5diff -q "$work/tomo-1/dataset.h5" "$work/seed6/dataset.h5" >/dev/null 2>&1; then
  fail "h5diff finds no difference between data sets of different seeds"
fi
echo "ok: truths read back as g/255 and g/65535; -data_samples; noise level"

# Bad input.
bad_dir() {  # bad_dir NAME KIND...: a directory with one good image and the bad files of KINDs
  local dir=$work/bad-$1
  shift
  mkdir -p "$dir"
  cp "$truth/000_png8.png" "$dir/"
  for kind in "$@"; do
    case $kind in
      truncated_tiff | tiff_header | colour_tiff | float_tiff) "${make_images[@]}" bad "$kind" "$dir/001_$kind.tif" "$n" ;;
      *) "${make_images[@]}" bad "$kind" "$dir/001_$kind.png" "$n" ;;
    esac
  done
  echo "$dir"
}
args=(phantom --out "$work/bad-out" -problem tomo -problem_n "$n" -data_truth_dir)
expect_error 2 "does not exist" "${args[@]}" "$work/no-such-dir"
expect_error 2 "does not exist or is not a directory" "${args[@]}" "$truth/000_png8.png"
mkdir "$work/empty"
echo "text" >"$work/empty/notes.txt"
expect_error 2 "holds no image files" "${args[@]}" "$work/empty"
expect_error 2 "is not a PNG or TIFF file" "${args[@]}" "$(bad_dir notpng notpng)"
expect_error 2 "truncated or corrupt" "${args[@]}" "$(bad_dir truncpng truncated_png)"
expect_error 2 "truncated or corrupt" "${args[@]}" "$(bad_dir trunctiff truncated_tiff)"
expect_error 2 "cannot read TIFF file" "${args[@]}" "$(bad_dir tiffheader tiff_header)"
expect_error 2 "colour (RGB)" "${args[@]}" "$(bad_dir colourpng colour_png)"
expect_error 2 "3 samples per pixel" "${args[@]}" "$(bad_dir colourtiff colour_tiff)"
expect_error 2 "floating-point" "${args[@]}" "$(bad_dir floattiff float_tiff)"
expect_error 2 "4-bit greyscale" "${args[@]}" "$(bad_dir grey4 grey4_png)"
expect_error 3 "this run has -problem_n 32" phantom --out "$work/bad-out" -problem tomo -problem_n 32 \
  -data_truth_dir "$truth"
mkdir "$work/mixed"
cp "$truth/000_png8.png" "$work/mixed/a.png"
mkdir "$work/small"
"${make_images[@]}" good "$work/small" 16
cp "$work/small/001_png16_interlaced.png" "$work/mixed/b.png"
expect_error 2 "differ in size" "${args[@]}" "$work/mixed"
expect_error 1 "asks for more samples than the 5 images" "${args[@]}" "$truth" -data_samples 6
expect_error 2 "not both" "${args[@]}" "$truth" -data_file "$work/tomo-1/dataset.h5"
[ ! -e "$work/bad-out/dataset.h5" ] || fail "a failed run wrote $work/bad-out/dataset.h5"
echo "ok: bad truth directories give one error line"
