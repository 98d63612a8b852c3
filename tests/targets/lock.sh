#!/usr/bin/env bash
# Locks each target's requirements/NAME.in (the pins of the target itself) into requirements/NAME.txt,
# every dependency at an exact version, for Python 3.11. run.sh installs the .txt files: rerun this
# after changing a pin, and commit both.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/targets/lib.sh
ensure_uv
for spec in tests/targets/requirements/*.in; do
  "$uv" pip compile --quiet --python-version 3.11 --custom-compile-command tests/targets/lock.sh \
    "$spec" -o "${spec%.in}.txt"
done
