# The clinic chatbot's commands. `make run`, `make shell` and `make test` set up whatever is missing.
SHELL := bash
.DEFAULT_GOAL := help

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONHASHSEED := 0

UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN := $(UV) run --frozen

.PHONY: help install setup train retrain run shell test test-fast services lint validate pytest chromium nginx audit bench crossval nlu-report conversations clean bench-dates triage-report chaos

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	# Byte-compiled once here: every Rasa start then skips compiling TensorFlow's and Rasa's
	# sources (about 10 s of each start when Python may not write its caches).
	$(UV) sync --frozen --compile-bytecode
	@touch $@

install: .venv/.synced ## install Python dependencies (uv, from the lock file)

setup: install ## build the spaCy pipeline, migrate the database, load the FAQ
	$(RUN) massagebot setup

train: setup ## train the model (skipped by Rasa when data and config are unchanged)
	$(RUN) rasa train --out models

retrain: setup ## train even if nothing changed (e.g. after editing a custom component)
	$(RUN) rasa train --out models --force

run: train ## serve the bot: Rasa on :5005 (REST, socket.io), actions on :5055, restarted if they crash; Ctrl-C stops all
	$(RUN) massagebot serve

shell: train ## talk to the bot in this terminal, as staff testing conversations
	$(RUN) massagebot shell

# The compose file against the compose-spec JSON schema, as check-jsonschema ships it (with its
# licence); run in its own tool environment, like pip-audit, since it needs a newer jsonschema
# than Rasa allows. The Kubernetes manifests are validated by tests/production/test_kubernetes.py.
lint: install ## ruff, domain types (mypy), layer contracts, Dockerfile (hadolint), compose schema
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports
	$(RUN) hadolint deploy/Dockerfile
	$(UV) tool run --from check-jsonschema==0.39.0 check-jsonschema \
		--builtin-schema vendor.compose-spec deploy/docker-compose.yml

validate: setup ## Rasa's own checks of domain, data and stories
	$(RUN) rasa data validate --fail-on-warnings

chromium: ## Debian's Chromium for the widget's browser tests (installed only if missing)
	bash scripts/install-chromium.sh

services: install ## check that PostgreSQL and Redis answer (the tests need both; CI checks first)
	$(RUN) python -m tests.support.services

nginx: ## Debian's nginx for the deployment topology test (installed only if missing)
	bash scripts/install-nginx.sh

pytest: train chromium nginx services
	$(RUN) pytest

# The markers are set in tests/conftest.py from each test's folder and fixtures.
FAST := not (model or e2e or services or browser or server)

test-fast: install ## the tests that need no model, server, PostgreSQL/Redis or browser (~80 s)
	$(RUN) pytest -m "$(FAST)" -q

# pytest last, so its summary closes the output.
test: lint validate audit pytest ## everything CI runs

# pip-audit runs in its own tool environment (rasa pins an old `packaging` it can't share) on the
# exported lock file. Its report is printed but never fails the build: accepted findings and why
# are in docs/security.md.
audit: ## dependency vulnerability report (printed, not fatal; see docs/security.md)
	-$(UV) tool run pip-audit --progress-spinner off --disable-pip --no-deps \
		-r <($(UV) export --frozen --no-hashes --no-dev --no-emit-project) \
		|| echo "pip-audit reported findings (not fatal): review them against docs/security.md"

# CATEGORY=booking,cancel and ID=booking-2ish-first-message (or a prefix: ID='phone-*') filter.
conversations: train ## the free-text conversation suite against the trained bot (pass rate per category)
	$(RUN) python -m tests.conversations.runner $(if $(CATEGORY),--category '$(CATEGORY)') $(if $(ID),--id '$(ID)')

bench: train ## benchmark our bot against Rasa's stock `rasa init` bot (slow; prints a table)
	$(RUN) python -m bench

# Its own PostgreSQL and Redis (initdb/postgres and redis-server must be installed), never the
# machine's: a few minutes; the table is also written to results/chaos.md.
chaos: train ## the bot under load while each part is stopped and killed in turn (prints a table)
	$(RUN) python -m bench.chaos

bench-dates: install ## our time reader against ctparse and Recognizers-Text on the labelled phrasings
	$(RUN) python -m bench.dates

nlu-report: train ## intent macro-F1, confusions and misread messages on the development set
	$(RUN) python -m tests.nlu.dev_report

crossval: setup ## 5-fold cross-validation of NLU configs (slow; table in results/crossval/table.md)
	$(RUN) python -m tests.nlu.crossval

triage-report: install ## triage recall/precision per level and confusion tables (test part first)
	$(RUN) python -m tests.triage.report

clean: ## remove trained models, the local database and caches
	rm -rf models var .rasa results test-artifacts .pytest_cache
