#!/usr/bin/env bash
# etcd, kube-apiserver and kube-controller-manager, for the local API server of the engine tests
# and of `make up` without a cluster, and kubectl, which the tests run with generated kubeconfigs.
#
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, client-go, ...) with local paths,
# which a dependent module cannot use; kubernetes-api/go.mod replaces each with its published
# v0.<minor>.<patch>. etcd is the server module at the version Kubernetes requires. Version
# ldflags make /version report the real version instead of a placeholder.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

stamp=$(stamp_of "" "$0" $(find "$toolchain_dir/kubernetes-api" -type f | sort))
current kubernetes-api "$stamp" bin/etcd bin/kube-apiserver bin/kube-controller-manager \
    bin/kubectl && exit 0
[ "${1:-}" != --check ] || exit 1
started=$(date +%s)

fresh_copy kubernetes-api
kube=$(sed -n 's/^\tk8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$work/go.mod")
minor=$(echo "$kube" | cut -d. -f2)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$kube -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags="$ldflags -X $pkg.gitTreeState=clean"
done
(cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl)
(cd "$work" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd" ./etcd)

built kubernetes-api "$stamp" "$started"
