#!/usr/bin/env bash
# Install Apache Flink 2.3 (via the PyFlink wheel, which bundles the full Java
# distribution) into a private virtualenv and print the distribution dir.
#
#   bench/flink/setup.sh            -> prints e.g. ~/.cache/brook/flink-venv/lib/python3.11/site-packages/pyflink
#
# Idempotent: if apache-flink==2.3.0 is already installed in the venv, nothing is
# downloaded. All progress output goes to stderr; stdout is only the dir.
set -euo pipefail

FLINK_VERSION="${FLINK_VERSION:-2.3.0}"
CACHE="${BROOK_CACHE:-$HOME/.cache/brook}"
VENV="$CACHE/flink-venv"
PYTHON="${PYTHON:-python3}"

mkdir -p "$CACHE"
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating virtualenv $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi

installed="$("$VENV/bin/python" -m pip show apache-flink 2>/dev/null | sed -n 's/^Version: //p' || true)"
if [ "$installed" != "$FLINK_VERSION" ]; then
    echo "setup: installing apache-flink==$FLINK_VERSION (several minutes)" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install "apache-flink==$FLINK_VERSION" >&2
else
    echo "setup: apache-flink $installed already installed in $VENV" >&2
fi

FLINK_HOME="$("$VENV/bin/python" - <<'PY'
import os, pyflink
print(os.path.dirname(os.path.abspath(pyflink.__file__)))
PY
)"
for d in bin conf lib; do
    if [ ! -d "$FLINK_HOME/$d" ]; then
        echo "setup: $FLINK_HOME has no $d/ — not a full Flink distribution" >&2
        exit 1
    fi
done
chmod +x "$FLINK_HOME"/bin/*.sh "$FLINK_HOME"/bin/flink 2>/dev/null || true
echo "$FLINK_HOME"
