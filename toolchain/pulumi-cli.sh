#!/usr/bin/env bash
# The Pulumi engine at the version pinned for the `pulumi` package in requirements.txt:
#
#   pulumi                         the CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi), through
#                                  the wrapper module in cli/: pkg/v3's own go.mod replaces sdk/v3
#                                  with a local path, which `go install module@version` refuses
#   pulumi-language-python         the Python language host (language-host/): the upstream module
#                                  is not served, so a small gRPC server on sdk/v3 runs programs
#                                  through the pulumi-language-python-exec script of sdk/v3
#   pulumi-resource-pulumi-python  the launcher of Python dynamic providers, shipped in sdk/v3
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version=v$(pinned pulumi)
stamp=$(stamp_of "$version" "$0" "$toolchain_dir"/cli/* "$toolchain_dir"/language-host/*)
current pulumi-cli "$stamp" bin/pulumi bin/pulumi-language-python bin/pulumi-resource-pulumi-python && exit 0
[ "${1:-}" != --check ] || exit 1
started=$(date +%s)
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"

fresh_copy cli
(cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
sdk=$(module_dir "github.com/pulumi/pulumi/sdk/v3@$version")
install -m 755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$bin/"

fresh_copy language-host
install -m 644 "$sdk/python/cmd/pulumi-language-python-exec" "$work/"
(cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$bin/pulumi-language-python" .)

built pulumi-cli "$stamp" "$started"
