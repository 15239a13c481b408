#!/usr/bin/env bash
# bilearn serve -serve_groups G (docs/user_guide.md, "The solver service"): 2 ranks in 2 groups
# of 1 run 4 train jobs (two at a time, each on its group's sub-communicator); every job runs
# once and ends with the θ of a standalone 1-rank run of its options (the rank count of its
# group). A G that does not divide the ranks is refused with one error line.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

common=(-problem tomo -problem_n 16 -tomo_angles 20 -data_samples 2 -outer_max_it 2 -strict_options)
for i in 1 2 3 4; do
  {
    echo "-serve_command train"
    printf '%s %s\n' "${common[@]:0:${#common[@]}-1}"
    echo "-strict_options"
    echo "-data_noise 0.0$i"
  } >"$work/g$i.opts"
  run 1 submit --spool "$work/spool" "$work/g$i.opts" >/dev/null
done
run 2 serve --spool "$work/spool" --until-empty -serve_groups 2 >"$work/serve.log" 2>&1 ||
  { cat "$work/serve.log"; fail "serve -serve_groups 2 exited non-zero"; }
cat "$work/serve.log"
[ "$(grep -c 'job g[1-4] started' "$work/serve.log")" -eq 4 ] || fail "not 4 job starts"
[ "$(grep 'job g[1-4] started' "$work/serve.log" | sed 's/.*job //' | sort -u | wc -l)" -eq 4 ] || fail "a job ran twice"
grep -q '^serve\[0\]: spool' "$work/serve.log" && grep -q '^serve\[1\]: spool' "$work/serve.log" || fail "no two groups"
for i in 1 2 3 4; do
  run 1 train --out "$work/standalone$i" "${common[@]}" -data_noise 0.0$i >/dev/null
  a=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["theta"])' "$work/spool/done/g$i/summary.json")
  b=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["theta"])' "$work/standalone$i/summary.json")
  [ "$a" = "$b" ] || fail "g$i: theta $a in the service, $b standalone"
done
expect_error 2 "-serve_groups 3 must divide the 2 ranks" serve --spool "$work/spool" --until-empty -serve_groups 3
echo "serve_groups: ok"
