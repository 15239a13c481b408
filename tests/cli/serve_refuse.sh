#!/usr/bin/env bash
# What bilearn submit and serve refuse (docs/user_guide.md, "The solver service"), each with one
# `bilearn: error:` line and a non-zero exit: submit, a malformed job file (unknown or missing
# command, two options on a line, unreadable) or one that could write outside its job folder
# (absolute or '..' paths in any option value but the input files', -options_file), and then
# queues nothing; serve, a spool that other users can write to (on 1 and 2 ranks), a spool that
# is not a folder, no --spool.
set -euo pipefail
source "$(dirname "$0")/lib_expect.sh"
cli_init "$@"

# submit: malformed and unsafe files are refused with one line, nothing is queued.
printf -- '-serve_command frobnicate\n' >"$work/unknown.opts"
expect_error 1 "not a job command" submit --spool "$work/s0" "$work/unknown.opts"
printf -- '-problem tomo\n' >"$work/nocommand.opts"
expect_error 1 "no -serve_command" submit --spool "$work/s0" "$work/nocommand.opts"
printf -- '-serve_command train\n-problem tomo -problem_n 16\n' >"$work/twoperline.opts"
expect_error 1 "one option and its value per line" submit --spool "$work/s0" "$work/twoperline.opts"
printf -- '-serve_command train\n-reg_view ascii:/tmp/outside.txt\n' >"$work/outside.opts"
expect_error 1 "writes only inside its own folder" submit --spool "$work/s0" "$work/outside.opts"
printf -- '-serve_command train\n-log_view :../../x.txt\n' >"$work/dotdot.opts"
expect_error 1 "writes only inside its own folder" submit --spool "$work/s0" "$work/dotdot.opts"
printf -- '-serve_command train\n-options_file other.opts\n' >"$work/nested.opts"
expect_error 1 "-options_file is not allowed" submit --spool "$work/s0" "$work/nested.opts"
expect_error 1 "cannot read the job file" submit --spool "$work/s0" "$work/missing.opts"
expect_error 1 "submit needs --spool" submit "$work/unknown.opts"
[ -z "$(ls -A "$work/s0/incoming" 2>/dev/null)" ] || fail "a refused job was queued: $(ls "$work/s0/incoming")"

# serve refuses a spool that others can write to (and one of another type).
mkdir -p "$work/open" && chmod 0777 "$work/open"
expect_error 1 "can be written by other users" serve --spool "$work/open" --until-empty
expect_error 2 "can be written by other users" serve --spool "$work/open" --until-empty
touch "$work/plainfile"
expect_error 1 "is not a folder" serve --spool "$work/plainfile" --until-empty
expect_error 1 "serve needs --spool" serve --until-empty

echo "serve_refuse: ok"
