#!/bin/sh
# bench/install.sh: installs the Debian packages the benchmark peers need, only those missing.
# Run as root (or with sudo available). Safe to run again: it does nothing when all are there.
set -eu

packages="golang-go librust-tokio-dev libasio-dev python3-uvloop gnuplot-nox time cmake ninja-build g++ gcc util-linux"
# (gcc: W5's C server and load generator; util-linux: taskset, which pins W5's server and load generator.)
# `run.py --syscalls` also needs linux-perf (or strace); it is optional and not installed here.
# Tokio is built with cargo; use the one on PATH (rustup's, say) if there is one, else Debian's.
command -v cargo >/dev/null 2>&1 || packages="$packages cargo rustc"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "bench/install.sh: all packages present"
    exit 0
fi

echo "bench/install.sh: installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086  # word splitting of the package list is intended
$sudo apt-get install -y -q --no-install-recommends $missing
