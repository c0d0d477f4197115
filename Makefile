# Every target creates or reuses the virtual environment first, so a fresh clone needs only `make demo`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export RENDERFARM_DATA_DIR ?= $(CURDIR)/renderfarm-data
# Batch runs log one materialisation-planned event per asset, not one per product (docs/scale-and-performance.md,
# "Catalog scale"); every process that creates runs needs it (daemon, webserver, CLI).
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS ?= true

.PHONY: venv render-packages demo dev test test-packages lint format lock bench scale fidelity chaos screenshots image example-photos clean

# Runtime dependencies at the versions the worker image ships (worker_image/constraints.txt).
CONSTRAINTS := worker_image/constraints.txt

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint $(CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the renderer needs (cairo, Pango, the bundled fonts), as in the worker image;
# installed when absent, as root.
render-packages:
	bash tools/install-render-packages.sh

# An empty dagster.yaml: the defaults (SQLite under DAGSTER_HOME), without Dagster's warning.
$(DAGSTER_HOME):
	mkdir -p $(DAGSTER_HOME)
	touch $(DAGSTER_HOME)/dagster.yaml

demo: venv render-packages $(DAGSTER_HOME)
	$(BIN)/renderfarm demo

# The UI on the local deployment, the example specs in the inbox for the spec sensor to render.
DEV_PORT ?= 3000
dev: venv render-packages $(DAGSTER_HOME)
	$(BIN)/renderfarm examples
	$(BIN)/dagster dev -w workspace.yaml --host 127.0.0.1 --port $(DEV_PORT)

test: venv lint render-packages test-packages
	$(BIN)/python -m pytest

# Throughput figures and their targets (bench/); a few minutes, best on an otherwise idle machine.
# PostgreSQL's server (test-packages) measures Dagster's overhead on production's storage.
bench: venv render-packages test-packages
	$(BIN)/python -m bench

# A drop of 2,000 products with 1% bad and 1% late photos rendered for real (bench/drop.py,
# about 5 minutes), then a bulk drop through the real sensor, daemon and run queue with ECS
# simulated (bench/scale.py): SCALE_PRODUCTS specs (10,000 by default, a few minutes;
# docs/scale-and-performance.md quotes 100,000).
SCALE_PRODUCTS ?= 10000
DROP_PRODUCTS ?= 2000
scale: venv render-packages
	$(BIN)/python -m bench.drop --products $(DROP_PRODUCTS)
	$(BIN)/python -m bench.scale --products $(SCALE_PRODUCTS)

# How faithfully templates are drawn, against linebender/resvg's test suite, by the project, plain
# cairosvg and resvg side by side (bench/fidelity.py). The suite is a clone of that repository:
# make fidelity RESVG_TESTS=<clone>/crates/resvg/tests/tests
RESVG_TESTS ?= ../resvg/crates/resvg/tests/tests
fidelity: venv render-packages
	$(BIN)/python -m bench.fidelity $(RESVG_TESTS)

# Fault injection: run workers killed at random (SIGTERM, SIGKILL) while rendering: 30 faults in
# the local deployment, 20 in an aws deployment on a moto server.
chaos: venv render-packages
	$(BIN)/python -m chaos

# The UI screenshots of docs/using.md (docs/images/), taken by the browser test from a real
# webserver (tests/ui/).
screenshots: venv test-packages
	RENDERFARM_SCREENSHOTS_DIR=$(CURDIR)/docs/images $(BIN)/python -m pytest tests/ui/test_browser.py \
		"tests/ui/test_failed_products.py::test_a_batch_publishes_its_good_products_and_fails_the_bad_ones_with_reasons[local]"

# The worker image (worker_image/Dockerfile): docker buildx where a Docker engine runs, else
# Debian's podman (chroot isolation, installed when absent, as root), on a local stand-in base
# where no registry is reachable. PLATFORM=linux/arm64 for Graviton; both, comma-separated, make a
# multi-arch manifest list. Another architecture than the machine's is emulated by
# qemu-user-static (installed and registered when absent, as root).
IMAGE ?= renderfarm-dagster:dev
PLATFORM ?= linux/amd64
HOST_PLATFORM := linux/$(shell dpkg --print-architecture 2>/dev/null \
	|| uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
comma := ,
image:
	bash tools/install-image-packages.sh \
		$(if $(filter-out $(HOST_PLATFORM),$(subst $(comma), ,$(PLATFORM))),--emulation)
	PLATFORM=$(PLATFORM) bash worker_image/build.sh $(IMAGE)

# Redraw the example catalog's photos (renderfarm_dagster/examples/assets/; committed).
example-photos: venv
	$(BIN)/python tools/make_example_photos.py

# Debian packages some tests need (PostgreSQL's server, chromium); installed when absent, as root.
test-packages:
	bash tests/install-test-packages.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint infra/*.yaml
	$(BIN)/hadolint --config worker_image/.hadolint.yaml worker_image/Dockerfile

# Re-pin the runtime dependency set after changing `dependencies` in pyproject.toml.
lock: venv
	$(BIN)/python worker_image/lock.py

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .dagster_home renderfarm-data .pytest_cache .ruff_cache test-artifacts
