#!/usr/bin/env bash
# go-command.sh NAME PACKAGE [--check]: builds the command PACKAGE of the Go module pinned in
# toolchain/NAME/go.mod into bin/NAME. The recipes of single Go commands (actionlint.sh,
# versitygw.sh) run it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
name=$1 package=$2
shift 2

stamp=$(stamp_of "$package" "$0" "$toolchain_dir"/"$name"/*)
current "$name" "$stamp" "bin/$name" && exit 0
[ "${1:-}" != --check ] || exit 1
started=$(date +%s)

fresh_copy "$name"
(cd "$work" && go build -trimpath -ldflags "-s -w" -o "$bin/$name" "$package")

built "$name" "$stamp" "$started"
