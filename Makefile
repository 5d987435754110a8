# Two commands on a fresh Debian machine:
#   make run    venv + requirements + Debian's dataset (where apt is available), then the app
#   make test   the above + dev requirements + Debian's chromium, redis-server and nginx, then
#               the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT    := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup setup-dev dataset chromium redis-server nginx lint format bench weights clean

run: setup dataset
	$(VENV)/bin/streamlit run app.py

# Test processes (pytest-xdist): most tests wait on a browser, a server or a worker process.
TEST_PROCS ?= 2

test: setup-dev dataset chromium redis-server nginx
	$(PY) -m pytest -n $(TEST_PROCS) --dist worksteal

setup: $(VENV)/.stamp-runtime
setup-dev: $(VENV)/.stamp-dev

$(VENV)/.stamp-runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-runtime requirements-dev.txt
	$(PY) -m pip install -r requirements-dev.txt
	touch $@

# Debian packages, installed only where apt exists; elsewhere the app downloads the dataset
# on first use and the browser tests look for a Chromium of their own.
define apt_install
	@if dpkg -s $(1) >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		$(APT) install -y --no-install-recommends $(1) \
		|| { $(APT) update && $(APT) install -y --no-install-recommends $(1); } \
		|| echo "warning: could not install Debian's $(1)"; \
	else echo "note: no apt-get here; skipping Debian's $(1)"; fi
endef

dataset:
	$(call apt_install,dataset-fashion-mnist)

chromium:
	$(call apt_install,chromium)

redis-server:
	$(call apt_install,redis-server)

nginx:
	$(call apt_install,nginx)

lint: setup-dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: setup-dev
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: setup dataset
	$(PY) bench/train_speed.py --epochs 1

# Reproduce the shipped weights, bit for bit on the CPU (the README gives the recipes).
WEIGHTS_ARGS ?= --epochs 15 --lr 0.1 --batch-size 32 --hidden-units 10 --optimizer sgd \
	--schedule cosine --seed 42 --snapshots 0 --probe 0
weights: setup dataset
	$(PY) -m tinyvgg.train $(WEIGHTS_ARGS) --out tinyvgg/weights/tinyvgg_fashion_mnist.pt
	$(PY) -m tinyvgg.train $(WEIGHTS_ARGS) --augment sketch --holdout 5000 \
		--out tinyvgg/weights/tinyvgg_sketch.pt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache runs
