#!/usr/bin/env bash
# Builds the Pulumi engine toolchain from Go modules and caches it outside the repository:
#
#   pulumi                         the CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
#   pulumi-language-python         the Python language host (toolchain/language-host)
#   pulumi-resource-pulumi-python  the launcher of Python dynamic providers (from sdk/v3)
#
# Usage: toolchain/build.sh            build what is missing, print the bin directory last
#        toolchain/build.sh --print    print the bin directory if the toolchain is complete
#
# The cache lives in $MTLS_TOOLCHAIN_CACHE (default ~/.cache/mtls-ingress/toolchain), one
# folder per Pulumi version; a folder is complete when its stamp matches the sources here, so
# a second run does nothing. The provider plugins pulumi-resource-tls and
# pulumi-resource-kubernetes are Go modules too; the script asks the module proxy for them
# and reports what it answers (see README, "The real engine").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's/^pulumi==\(.*\)$/v\1/p' "$here/../requirements.txt")
[ -n "$version" ] || { echo "no pulumi== pin in requirements.txt" >&2; exit 1; }
cache=${MTLS_TOOLCHAIN_CACHE:-$HOME/.cache/mtls-ingress/toolchain}/$version
bin=$cache/bin
stamp_value=$(cat "$0" "$here"/cli/go.mod "$here"/cli/go.sum "$here"/language-host/* | sha256sum | cut -c1-16)

if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$stamp_value" ]; then
    [ "${1:-}" = "--print" ] || echo "toolchain $version is current" >&2
    echo "$bin"
    exit 0
fi
if [ "${1:-}" = "--print" ]; then
    exit 1
fi

command -v go >/dev/null || { echo "Go is required to build the toolchain" >&2; exit 1; }
mkdir -p "$bin" "$cache/build"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"
started=$(date +%s)

step() {  # step NAME COMMAND...: run and report the time it took
    local name=$1 began; shift
    began=$(date +%s)
    "$@"
    echo "built $name in $(( $(date +%s) - began )) s" >&2
}

build_cli() {
    rm -rf "$cache/build/cli" && cp -r "$here/cli" "$cache/build/cli"
    (cd "$cache/build/cli" && go build -trimpath -ldflags "$ldflags" -o "$bin/pulumi" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

sdk_dir() {
    (cd "$cache/build/cli" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@$version") |
        sed -n 's/.*"Dir": "\(.*\)".*/\1/p'
}

build_language_host() {
    local work=$cache/build/language-host sdk
    sdk=$(sdk_dir)
    rm -rf "$work" && cp -r "$here/language-host" "$work"
    install -m 644 "$sdk/python/cmd/pulumi-language-python-exec" "$work/"
    (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$bin/pulumi-language-python" .)
}

install_dynamic_provider_launcher() {
    install -m 755 "$(sdk_dir)/python/dist/pulumi-resource-pulumi-python" "$bin/"
}

probe_providers() {
    local report=$cache/providers.txt module answer
    : > "$report"
    for module in github.com/pulumi/pulumi-tls/provider/v5@v5.6.2 \
                  github.com/pulumi/pulumi-kubernetes/provider/v4@v4.34.2; do
        if answer=$(cd "$cache/build/cli" && go mod download -json "$module" 2>&1); then
            echo "$module: served" >> "$report"
        else
            echo "$module: $(echo "$answer" | sed -n 's/.*"Error": "\(.*\)".*/\1/p' | head -1)" >> "$report"
        fi
    done
    sed 's/^/provider module /' "$report" >&2
}

step pulumi build_cli
step pulumi-language-python build_language_host
step pulumi-resource-pulumi-python install_dynamic_provider_launcher
probe_providers
echo "$stamp_value" > "$cache/stamp"
echo "toolchain $version built in $(( $(date +%s) - started )) s; $(du -sh "$bin" | cut -f1) in $bin" >&2
echo "$bin"
