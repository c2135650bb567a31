#!/usr/bin/env bash
# versitygw, an S3 gateway that serves a folder as an object store: the engine tests and
# `python -m localkube --backend s3` keep Pulumi state in it (localkube/backends.py). The Go
# module is served at the version pinned in versitygw/go.mod.
exec "$(dirname "$0")/go-command.sh" versitygw github.com/versity/versitygw/cmd/versitygw "$@"
