# Two commands do all the set-up on a fresh machine:
#   make demo   installs everything and audits the bundled samples (no Stripe account needed)
#   make test   installs everything and runs the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-deps-stamp

.PHONY: demo test bench clean

$(STAMP): pyproject.toml scripts/system-deps
	./scripts/system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/audit run --all-tenants --config samples/tenants.toml --evidence samples/evidence \
	    --format table,json,html,pdf --output out/demo; \
	code=$$?; echo "audit exit code $$code (1 = findings: expected for the samples; reports in out/demo/)"; \
	test $$code -le 1

# the browser the report tests read report.html with (headless Chromium and its driver)
$(TEST_STAMP): scripts/test-deps $(STAMP)
	./scripts/test-deps
	touch $(TEST_STAMP)

test: $(STAMP) $(TEST_STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/fleet_bench.py

clean:
	rm -rf $(VENV) out build *.egg-info
