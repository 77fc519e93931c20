# The two commands of this project (run as root on Debian 12, or as a user who has the packages):
#
#   make demo [PORT=8000] [HOST=127.0.0.1]   install what is missing, set up the database with the
#                                            17 cities and sample data, serve http://HOST:PORT/
#   make stop [PORT=8000]                    stop the server that `make demo` started (by its pid file)
#   make test                                the same setup, then ruff, mypy and pytest on a real PostGIS
#
# Both start with scripts/bootstrap.sh, which checks each step first, so a second run is quick.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
BIN := .venv/bin
PORT ?= $(or $(GEOPORTAL_PORT),8000)
HOST ?= $(or $(GEOPORTAL_HOST),127.0.0.1)

.PHONY: demo setup serve stop test lint format-check typecheck pytest help

help:
	@sed -n '1,8p' Makefile

demo:
	@$(MAKE) --no-print-directory setup
	@$(MAKE) --no-print-directory serve

setup:
	bash scripts/bootstrap.sh demo
	$(BIN)/geoportal setup

serve:
	$(BIN)/geoportal serve --host $(HOST) --port $(PORT)

# Stops a server started by `make demo`/`geoportal serve` on PORT, by its pid file (no ps/pkill needed).
stop:
	@pidfile="$$($(BIN)/python -c 'from geoportal.management.commands.serve import pid_file; print(pid_file($(PORT)))')"; \
	if [[ ! -f "$$pidfile" ]]; then echo "no server on port $(PORT) ($$pidfile does not exist)"; exit 0; fi; \
	if ! kill -TERM "$$(cat "$$pidfile")" 2>/dev/null; then echo "removing stale $$pidfile (no such process)"; rm -f "$$pidfile"; exit 0; fi; \
	for _ in $$(seq 1 100); do [[ -f "$$pidfile" ]] || { echo "stopped the server on port $(PORT)"; exit 0; }; sleep 0.2; done; \
	echo "the server on port $(PORT) did not stop within 20 s (pid $$(cat "$$pidfile"))" >&2; exit 1

# -k: run every check even when an earlier one fails, so one CI run shows all problems (make still fails).
test:
	bash scripts/bootstrap.sh test
	$(MAKE) --no-print-directory -k lint format-check typecheck pytest

lint:
	$(BIN)/ruff check .

format-check:
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy .

# pytest exits 5 when it collected no tests: that is a failure here, never a pass.
pytest:
	@echo '$(BIN)/pytest'; rc=0; $(BIN)/pytest || rc=$$?; \
	if [[ $$rc == 5 ]]; then echo "pytest collected no tests: failing" >&2; fi; \
	exit $$rc
