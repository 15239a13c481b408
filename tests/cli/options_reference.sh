#!/usr/bin/env bash
# docs/options.md is what scripts/options_reference.sh makes of the program's -help: it is
# regenerated into a temporary file and must equal the committed one (after changing an
# option, a command or a benchmark: bash scripts/options_reference.sh, and commit the file).
# The reference must also cover every command of --help and every benchmark of bench -help.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"
root=$(cd "$(dirname "$0")/../.." && pwd)

BILEARN=$bilearn BILEARN_MPIEXEC="$mpiexec ${flags[*]}" bash "$root/scripts/options_reference.sh" "$work/options.md" ||
  fail "scripts/options_reference.sh failed"
if ! diff -u "$root/docs/options.md" "$work/options.md" >"$work/options.diff"; then
  fail "docs/options.md differs from what the program prints (regenerate: bash scripts/options_reference.sh):
$(head -60 "$work/options.diff")"
fi
for c in $(run 1 --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
  grep -qx "## bilearn $c" "$root/docs/options.md" || fail "docs/options.md has no section for $c"
done
for b in $(run 1 bench -help | sed -n 's/^  \([a-z][a-z-]*\): .*/\1/p'); do
  grep -qx "## bilearn bench $b" "$root/docs/options.md" || fail "docs/options.md has no section for bench $b"
done
grep -q -- "-hyper_ksp_type" "$root/docs/options.md" || fail "docs/options.md lacks -hyper_ksp_type"
echo "options reference: ok ($(wc -l <"$root/docs/options.md") lines)"
