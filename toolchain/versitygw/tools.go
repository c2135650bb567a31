//go:build tools

// Package tools pins versitygw, the S3 gateway that serves a folder as an object store for the
// engine tests' S3 state backend, so that `go build github.com/versity/versitygw/cmd/versitygw`
// builds the version in go.mod.
package tools

import _ "github.com/versity/versitygw/cmd/versitygw"
