# mtls-ingress: `make up` deploys a stack, `make test` runs every check. Both set up what they
# need first (a virtualenv in .venv with the pinned requirements).

PYTHON ?= python3
VENV := .venv
STACK ?=
# What `make up` serves the local stack with when no cluster is configured: ingress-nginx (nginx)
# or gateway-api (Envoy Gateway and Envoy).
ENFORCER ?= ingress-nginx
BIN := $(VENV)/bin
PY_SOURCES := components localkube support schemas tests bench policy provider __main__.py

.PHONY: up preview test lint typecheck unit engine toolchain setup system-packages test-packages bench clean schema policy

setup: $(VENV)/.installed system-packages

# Debian packages, as `check:package` (`check` a command, or a file pattern that must match).
# `make up` needs only nginx, which serves the deployed stack (python -m localkube).
RUN_PACKAGES := nginx:nginx
# The tests also need: openssl, which verifies chains in the unit tests; faketime, which runs the
# engine tests' renewals at later dates; Java's keytool, which opens PKCS#12 bundles; jq, which
# runs the workflows' stack listing in the unit tests, as on GitHub's runners; and PostgreSQL's
# programs, which run the throwaway state backend of the engine tests and of `python -m
# localkube --backend postgres` (localkube/backends.py starts its own server on 127.0.0.1).
TEST_PACKAGES := openssl:openssl faketime:faketime keytool:default-jre-headless jq:jq \
	/usr/lib/postgresql/*/bin/initdb:postgresql

# install_missing PAIRS: installs the packages of PAIRS whose check fails (as root), or says which.
define install_missing
	@missing=""; \
	for pair in $(1); do \
		check=$${pair%%:*}; package=$${pair##*:}; \
		command -v "$$check" >/dev/null 2>&1 || [ -x "/usr/sbin/$$check" ] \
			|| ls $$check >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "please install:$$missing (Debian packages)" >&2; exit 1; fi; \
		echo "installing$$missing"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; \
	fi
endef

system-packages:
	$(call install_missing,$(RUN_PACKAGES))

test-packages:
	$(call install_missing,$(TEST_PACKAGES))

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
up: setup
	@if [ -n "$(STACK)" ] || [ -n "$$KUBECONFIG" ] || [ -f "$$HOME/.kube/config" ]; then \
		PATH="$(PULUMI_BIN):$$PATH" pulumi up --stack $(or $(STACK),dev); \
	else \
		$(BIN)/python -m localkube --enforcer $(ENFORCER); \
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

unit: setup test-packages
	$(BIN)/python -m pytest tests/unit tests/conformance

engine: setup test-packages toolchain
	$(BIN)/python -m pytest tests/engine

test: lint typecheck test-packages toolchain
	$(BIN)/python -m pytest

# The JSON Schema of Pulumi.<stack>.yaml files, generated from the settings model; a unit test
# fails while the committed file is out of date.
schema: $(VENV)/.installed
	$(BIN)/python -m schemas.generate schemas

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

bench: setup test-packages toolchain
	$(BIN)/python -m bench.run
