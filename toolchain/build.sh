#!/usr/bin/env bash
# Builds the real Pulumi engine, its provider plugins and a local Kubernetes API server from Go
# modules, and caches them outside the repository (one recipe per family of binaries):
#
#   pulumi-cli.sh           pulumi, pulumi-language-python, pulumi-resource-pulumi-python
#   tls-provider.sh         pulumi-resource-tls
#   kubernetes-provider.sh  pulumi-resource-kubernetes
#   kubernetes-api.sh       etcd, kube-apiserver, kube-controller-manager
#   actionlint.sh           actionlint, the linter of the GitHub Actions workflows
#   yaml-language-host.sh   pulumi-language-yaml, for the YAML stack that uses the components
#   versitygw.sh            versitygw, the S3 gateway of the tests' S3 state backend
#   envoy-gateway.sh        envoy-gateway, the controller that serves gateway-api stacks via Envoy
#
# and installs the plugins into the Pulumi home (install-plugins.sh).
#
# Usage: toolchain/build.sh            build what is missing or stale, print the bin folder last
#        toolchain/build.sh --print    print the bin folder if everything is current, else fail
#
# Versions follow requirements.txt (pulumi, pulumi-tls, pulumi-kubernetes), so the engine finds
# plugins of exactly the SDKs' versions. The cache is $MTLS_TOOLCHAIN_CACHE (default
# ~/.cache/mtls-ingress/toolchain); a recipe whose stamp matches its sources does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
recipes=(pulumi-cli tls-provider kubernetes-provider kubernetes-api actionlint yaml-language-host
    versitygw envoy-gateway)

if [ "${1:-}" = "--print" ]; then
    for recipe in "${recipes[@]}"; do
        "$here/$recipe.sh" --check || exit 1
    done
    source "$here/lib.sh"
    echo "$bin"
    exit 0
fi

started=$(date +%s)
for recipe in "${recipes[@]}"; do
    "$here/$recipe.sh" >&2
done
"$here/install-plugins.sh"
source "$here/lib.sh"
echo "toolchain: current ($(( $(date +%s) - started )) s; $(du -shc "$bin" "$plugins" | tail -1 | cut -f1) in $cache)" >&2
echo "$bin"
