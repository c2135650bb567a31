//go:build tools

// Package tools pins actionlint, the linter of GitHub Actions workflows, so that
// `go build github.com/rhysd/actionlint/cmd/actionlint` builds the version in go.mod.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
