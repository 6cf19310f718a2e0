#!/usr/bin/env bash
# s3s-fs: a small S3-compatible server (plain files on disk) for Brook's S3 tests.
# See /work/shared/TEST-COMPONENTS.md and crates/brook-checkpoint/tests/it/s3s_fs.rs.
#
#   scripts/test-components/s3s-fs.sh install   # build once into $BROOK_TOOLS (~5 min), no-op when present
#   scripts/test-components/s3s-fs.sh path      # print the binary's path
#   scripts/test-components/s3s-fs.sh start ROOT_DIR [PORT]
#                                               # run in the foreground on 127.0.0.1 (access key
#                                               # "test", secret "testtest"); buckets are
#                                               # sub-directories of ROOT_DIR
#
# The binary lives outside the clone so that CI runs on the same machine reuse it.
set -euo pipefail

VERSION="0.14.1" # 0.17 needs a newer rustc than the workspace's
TOOLS="${BROOK_TOOLS:-$HOME/.cache/brook/tools}"
BIN="$TOOLS/bin/s3s-fs"

case "${1:-}" in
install)
    if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
        echo "s3s-fs $VERSION already installed at $BIN"
        exit 0
    fi
    echo "installing s3s-fs $VERSION into $TOOLS (takes about 5 minutes)"
    mkdir -p "$TOOLS"
    # cargo install builds in its own temporary target directory.
    cargo install "s3s-fs@$VERSION" --features binary --locked --root "$TOOLS"
    ;;
path)
    echo "$BIN"
    ;;
start)
    root="${2:?usage: $0 start ROOT_DIR [PORT]}"
    port="${3:-8014}"
    mkdir -p "$root"
    exec "$BIN" --host 127.0.0.1 --port "$port" --access-key test --secret-key testtest "$root"
    ;;
*)
    echo "usage: $0 install | path | start ROOT_DIR [PORT]" >&2
    exit 2
    ;;
esac
