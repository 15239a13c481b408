#!/usr/bin/env bash
# Sets up (Debian packages), builds, and runs every test (MPI tests on 1, 2 and 3 ranks).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh"
build=${BILEARN_BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure -j 2 "$@"
