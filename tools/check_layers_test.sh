#!/usr/bin/env bash
# Runs tools/check_layers.py on the source tree it comes from.
set -euo pipefail
script="$(readlink -f "$1")"
exec python3 "$script" "$(dirname "$(dirname "$script")")"
