# What the serve tests share (source after lib_expect.sh).

# job FILE COMMAND OPTIONS...: a job file for `bilearn serve`, a comment line first (job files
# may carry comments), then the command and one option (with its value) per line
job() {
  local file=$1 command=$2
  shift 2
  {
    echo "# a job of the bilearn serve tests"
    echo "-serve_command $command"
    while [ $# -gt 0 ]; do
      if [ $# -gt 1 ] && [[ $2 != -[a-z]* ]]; then
        echo "$1 $2"
        shift 2
      else
        echo "$1"
        shift
      fi
    done
  } >"$file"
}

# json_field FILE KEY: the value of KEY (arrays joined by ',') with full precision
json_field() {
  python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(",".join(repr(x) for x in v) if isinstance(v, list) else repr(v))' "$1" "$2"
}

# close A B: equal lists of numbers to 1e-10 (relative)
close() {
  python3 -c 'import sys
a = [float(x) for x in sys.argv[1].split(",")]; b = [float(x) for x in sys.argv[2].split(",")]
assert len(a) == len(b) and all(abs(x - y) <= 1e-10 * max(1, abs(y)) for x, y in zip(a, b)), (a, b)' "$1" "$2"
}

# same_as_standalone JOB_JSON STANDALONE_JSON KEY MESSAGE: KEY equal in both to 1e-10, else fail MESSAGE
same_as_standalone() {
  close "$(json_field "$1" "$3")" "$(json_field "$2" "$3")" || fail "$4"
}
