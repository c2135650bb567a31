//go:build tools

// Package tools pins the Pulumi CLI as a dependency of this module, so that
// `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` builds it with the
// versions recorded in go.mod and go.sum. A wrapper module is needed because
// pkg/v3's own go.mod replaces sdk/v3 with a local path, which `go install
// module@version` refuses.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
