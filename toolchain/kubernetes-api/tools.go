//go:build tools

// Package tools pins kube-apiserver, kube-controller-manager and kubectl as dependencies of this
// module, so that `go build k8s.io/kubernetes/cmd/...` builds them with the versions in go.mod.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
