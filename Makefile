# specmon: two entry points for a fresh machine.
#   make demo   installs specmon into .venv and runs the station on the simulated city with the embedded store
#   make test   installs specmon[dev,grafana,rtlsdr] into .venv, installs the test services (InfluxDB 1.x, VictoriaMetrics)
#               when missing, and runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: venv install install-dev services demo test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
	$(PIP) install --quiet --upgrade pip

venv: $(PY)

install: $(PY)
	$(PIP) install --quiet -e .

install-dev: $(PY)
	$(PIP) install --quiet -e '.[dev,grafana,rtlsdr]'

# Test services: Debian's influxdb (1.x) and victoria-metrics. Installed only when missing.
services:
	@if ! command -v influxd >/dev/null 2>&1 || ! command -v victoria-metrics >/dev/null 2>&1; then \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q influxdb victoria-metrics; \
	fi

demo: install
	$(VENV)/bin/specmon run

test: install-dev services
	$(PY) -m pytest -q -p no:cacheprovider

bench: install-dev
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
