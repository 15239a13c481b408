#!/usr/bin/env bash
# Installs what bilearn needs from Debian packages (Debian 12). Idempotent: packages that
# are already installed are skipped, so it is cheap to call before every build.
set -euo pipefail
packages=(build-essential cmake pkg-config petsc-dev slepc-dev libopenmpi-dev openmpi-bin
  libboost-program-options-dev nlohmann-json3-dev libpng-dev libfftw3-dev libfftw3-mpi-dev googletest libgtest-dev
  libpetsc3.18-dev-examples libplplot-dev plplot-driver-cairo libtiff-dev hdf5-tools python3-petsc4py
  python3-numpy python3-h5py)  # numpy, h5py: docs/examples/own_data.py; h5py: tests/cli/reliability_bad_input.sh
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
