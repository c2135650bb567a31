#!/usr/bin/env bash
# versitygw, an S3 gateway that serves a folder as an object store: the engine tests and
# `python -m localkube --backend s3` keep Pulumi state in it (localkube/backends.py). The Go
# module is served at the version pinned in versitygw/go.mod.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

stamp=$(stamp_of "" "$0" "$toolchain_dir"/versitygw/*)
current versitygw "$stamp" bin/versitygw && exit 0
[ "${1:-}" != --check ] || exit 1
started=$(date +%s)

fresh_copy versitygw
(cd "$work" && go build -trimpath -ldflags "-s -w" -o "$bin/versitygw" \
    github.com/versity/versitygw/cmd/versitygw)

built versitygw "$stamp" "$started"
