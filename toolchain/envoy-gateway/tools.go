//go:build tools

// Package tools pins Envoy Gateway, the Gateway API implementation whose controller translates a
// deployed `gateway-api` stack's objects into Envoy's configuration (standalone mode: objects
// from files, Envoy as a host process), so that `go build .../cmd/envoy-gateway` builds the
// version in go.mod.
package tools

import _ "github.com/envoyproxy/gateway/cmd/envoy-gateway"
