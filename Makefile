# mtls-ingress: `make up` deploys a stack, `make test` runs every check. Both set up what they
# need first (a virtualenv in .venv with the pinned requirements).

PYTHON ?= python3
VENV := .venv
STACK ?=
BIN := $(VENV)/bin
PY_SOURCES := components localkube schemas tests bench policy provider __main__.py

.PHONY: up preview test lint typecheck unit engine toolchain setup system-packages bench clean schema policy

setup: $(VENV)/.installed system-packages

# Debian's nginx serves the conformance tests; openssl verifies chains in the unit tests;
# faketime runs the engine tests' renewals at later dates; Java's keytool opens PKCS#12 bundles;
# jq runs the workflows' stack listing in the unit tests, as on GitHub's runners; PostgreSQL's
# programs run the throwaway state backend of the engine tests and `python -m localkube
# --backend postgres` (localkube/backends.py starts its own server on 127.0.0.1).
system-packages:
	@missing=""; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v faketime >/dev/null || missing="$$missing faketime"; \
	command -v keytool >/dev/null || missing="$$missing default-jre-headless"; \
	command -v jq >/dev/null || missing="$$missing jq"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "please install:$$missing (Debian packages)" >&2; exit 1; fi; \
		echo "installing$$missing"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; \
	fi

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The pulumi CLI on PATH if there is one, else the one toolchain/build.sh builds.
PULUMI_BIN = $$(command -v pulumi >/dev/null && dirname "$$(command -v pulumi)" || toolchain/build.sh)

# Where `make up` deploys: with STACK=<name>, or with a kubeconfig (KUBECONFIG set, or a
# ~/.kube/config), that stack (default dev) goes to the cluster of the current context. With
# neither, the `local` stack goes to a throwaway cluster on this machine, is served by a local
# nginx and checked (python -m localkube).
up: setup system-packages
	@if [ -n "$(STACK)" ] || [ -n "$$KUBECONFIG" ] || [ -f "$$HOME/.kube/config" ]; then \
		PATH="$(PULUMI_BIN):$$PATH" pulumi up --stack $(or $(STACK),dev); \
	else \
		$(BIN)/python -m localkube; \
	fi

preview: setup
	PATH="$(PULUMI_BIN):$$PATH" pulumi preview --stack $(or $(STACK),dev) --diff

# The policy pack's own virtualenv (policy/venv): `pulumi preview --policy-pack policy` runs in it.
policy: policy/venv/.installed

policy/venv/.installed: policy/requirements.txt
	test -x policy/venv/bin/python || $(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet -r policy/requirements.txt
	touch $@

# The Pulumi CLI and language host, the tls and kubernetes provider plugins, etcd,
# kube-apiserver and kube-controller-manager, and the tests' actionlint and versitygw (an S3
# gateway), built from Go modules into ~/.cache/mtls-ingress/toolchain (nothing to do when they
# are current).
toolchain:
	toolchain/build.sh

lint: setup
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest tests/unit tests/conformance

engine: setup toolchain
	$(BIN)/python -m pytest tests/engine

test: lint typecheck toolchain
	$(BIN)/python -m pytest

# The JSON Schema of Pulumi.<stack>.yaml files, generated from the settings model; a unit test
# fails while the committed file is out of date.
schema: $(VENV)/.installed
	$(BIN)/python -m schemas.generate schemas

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

bench: setup
	$(BIN)/python -m bench.run
