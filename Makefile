# Two commands do all the set-up on a fresh machine:
#   make demo   installs everything and audits the bundled samples (no Stripe account needed)
#   make test   installs everything and runs the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock
# The tools that write the lock are pinned too; `make lock` is the one command that regenerates it.
LOCK_TOOLS := pip==25.2 pip-tools==7.6.2
TEST_STAMP := $(VENV)/.test-deps-stamp

.PHONY: demo test bench clean lock

# Exactly the locked versions (hashes checked), then the project itself, without resolving anything:
# the lock is complete (pip-compile), so --no-deps keeps a new release on PyPI from entering
# (pip 23's resolver took a newer fonttools for weasyprint's `fonttools[woff]` and refused it
# in hash mode); `pip check` then proves the locked set satisfies every requirement.
# A changed lock rebuilds the venv from scratch, so nothing unlocked is left over in it.
$(STAMP): $(LOCK) pyproject.toml scripts/system-deps
	./scripts/system-deps
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip check -q --disable-pip-version-check
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Regenerate requirements.lock from pyproject.toml (dependencies + the test extra), with hashes.
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install -q --disable-pip-version-check $(LOCK_TOOLS)
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra test \
	    --no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml

demo: $(STAMP)
	@$(BIN)/audit run --all-tenants --config samples/tenants.toml --evidence samples/evidence \
	    --format table,json,html,pdf --output out/demo; \
	code=$$?; echo "audit exit code $$code (1 = findings: expected for the samples; reports in out/demo/)"; \
	test $$code -le 1

# the browser the report tests read report.html with (headless Chromium and its driver)
$(TEST_STAMP): scripts/test-deps $(STAMP)
	./scripts/test-deps
	touch $(TEST_STAMP)

# The gates first (seconds), then the suite: ruff over everything, mypy --strict over the package.
test: $(STAMP) $(TEST_STAMP)
	$(BIN)/ruff check auditor rules tests benchmarks scripts samples
	./scripts/typecheck
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/fleet_bench.py

clean:
	rm -rf $(VENV) .venv-lock out build *.egg-info
