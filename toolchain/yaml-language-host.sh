#!/usr/bin/env bash
# pulumi-language-yaml, the language host of Pulumi YAML programs (examples/yaml-consumer): the
# github.com/pulumi/pulumi-yaml module at the version below, served by the Go module proxy, with
# the Link RPC that `pulumi package add` needs and that release lacks (yaml-language-host/).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=v1.25.0
stamp=$(stamp_of "$version" "$0" "$toolchain_dir"/yaml-language-host/*)
current yaml-language-host "$stamp" bin/pulumi-language-yaml && exit 0
[ "${1:-}" != --check ] || exit 1
started=$(date +%s)

fresh_copy yaml-language-host
(cd "$work" && go build -trimpath -ldflags "-s -w" -o "$bin/pulumi-language-yaml" .)

built yaml-language-host "$stamp" "$started"
