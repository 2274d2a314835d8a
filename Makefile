# CERES — two commands: `make run` (the demo platform, embedded mode) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SERVICES := establishments sessions candidates printing identity gateway
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-fast bench clean

$(STAMP): requirements.txt shared/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml)
	scripts/system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e shared $(foreach s,$(SERVICES),-e services/$(s))
	touch $(STAMP)

var/fonts/.installed: $(STAMP)
	$(PY) -m ceres_shared.documents.fonts install
	touch $@

var/communes/.installed: $(STAMP)
	$(PY) -m ceres_shared.communes build
	touch $@

WEB_ASSETS := services/gateway/ceres_gateway/web/static/vendor/.installed

$(WEB_ASSETS): $(STAMP)
	$(PY) -m ceres_gateway.web.assets install
	touch $@

# puppeteer-core, exactly as locked, for the Firefox browser tests; it never downloads a browser (and no install
# script runs): Debian's firefox-esr is the one driven.
FIREFOX_TESTS := services/gateway/tests/firefox/node_modules/.installed

$(FIREFOX_TESTS): services/gateway/tests/firefox/package-lock.json $(STAMP)
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix services/gateway/tests/firefox --ignore-scripts --no-audit --no-fund
	touch $@

install: $(STAMP) var/fonts/.installed var/communes/.installed $(WEB_ASSETS) $(FIREFOX_TESTS)

run: install
	$(PY) scripts/run_platform.py

test: install
	$(PY) -m pytest

# The unit layer: pure domain rules, no PostgreSQL, RabbitMQ, browser or network (well under a minute).
UNIT_TESTS := shared/tests/unit $(wildcard services/*/tests/unit)

test-fast: $(STAMP)
	$(PY) -m pytest -q $(UNIT_TESTS)

bench: install
	$(PY) bench/bus.py

clean:
	rm -rf var/*.db var/*.db-* var/bus var/log
