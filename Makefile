# Two entry points: `make run` (the portal on the embedded default) and `make test` (the whole suite against
# real servers). Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run K8S=local` also starts a local Kubernetes API server; with a kubeconfig in the environment the
# portal uses that cluster instead.
RUN_SERVICES := kafka redis ldap $(if $(filter local,$(K8S)),kube)

.PHONY: install run test bench bench-fleet services-down

install:
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	bash scripts/build-kcat.sh >/dev/null
	bash scripts/build-minio.sh >/dev/null
	bash scripts/build-otelcol.sh >/dev/null

run: install
	$(BIN)/python -m portal.devservices run $(RUN_SERVICES) --profile dev -- bash scripts/run-portal.sh

test: install
	$(BIN)/python -m portal.devservices run --profile test -- $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	LOGWARDEN_KAFKA_HEAP=2g $(BIN)/python -m portal.devservices run postgres redis kafka --profile bench -- $(BIN)/python bench/reconcile.py --flush-database $(BENCH_ARGS)

bench-fleet: install
	$(BIN)/python -m portal.devservices run postgres redis kafka kube --profile bench -- $(BIN)/python bench/fleet.py $(BENCH_ARGS)

services-down:
	$(BIN)/python -m portal.devservices down --profile dev
	$(BIN)/python -m portal.devservices down --profile test
