#!/usr/bin/env bash
# Installs the Debian packages this project builds with, only those missing.
# Idempotent and quiet when everything is already there. Run as root.
set -euo pipefail
packages=(
  bazel-bootstrap g++ git ca-certificates python3
  libabsl-dev libprotobuf-dev protobuf-compiler
  libzmq3-dev cppzmq-dev libsqlite3-dev libsodium-dev
  libgoogle-glog-dev libgflags-dev libgtest-dev libgmock-dev libbenchmark-dev
  libgoogle-perftools-dev
  nftables iproute2
  prometheus-cpp-dev prometheus
  clang libclang-rt-14-dev lld
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
