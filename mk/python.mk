# Python binding (bindings/python): build the abi3 wheel with maturin, install it
# into the project venv .venv, run pytest, mypy --strict and stubtest; the demo runs
# examples/python. Every tool comes from PyPI into .venv (bindings/python/requirements-dev.txt).

PY_SYSTEM ?= python3
PY_VENV := $(ROOT)/.venv
PY := $(PY_VENV)/bin/python
PY_DIR := $(ROOT)/bindings/python
PY_WHEELS := $(ROOT)/target/py/wheels
PY_TOOLS_STAMP := $(PY_VENV)/.docdb-python-tools

DEMOS += demo-python
TESTS += test-python test-python-source

.PHONY: python-venv python-wheel python-install test-python test-python-source demo-python

$(PY_TOOLS_STAMP): $(PY_DIR)/requirements-dev.txt
	test -x $(PY) || $(PY_SYSTEM) -m venv $(PY_VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(PY_DIR)/requirements-dev.txt
	touch $@

python-venv: $(PY_TOOLS_STAMP)

# Its own target dir, so maturin (which sets PYO3_BUILD_EXTENSION_MODULE) and plain cargo
# do not invalidate each other's builds.
python-wheel: $(PY_TOOLS_STAMP)
	rm -f $(PY_WHEELS)/docdb-*.whl
	$(PY_VENV)/bin/maturin build --release --quiet -i $(PY) -m $(PY_DIR)/Cargo.toml \
		--target-dir $(ROOT)/target/py -o $(PY_WHEELS)

python-install: python-wheel
	$(PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
		$(PY_WHEELS)/docdb-*.whl

# tests/test_remote.py runs target/release/docdb serve (the `cli` target).
test-python: python-install cli
	cd $(PY_DIR) && $(PY) -m pytest -q -p no:cacheprovider tests
	cd $(PY_DIR) && $(PY) -m mypy --strict --cache-dir $(ROOT)/target/py/mypy-cache \
		tests $(ROOT)/examples/python $(ROOT)/tests/conformance/runners/python \
		$(ROOT)/tests/multiprocess
	cd $(ROOT)/target && $(PY) -m mypy.stubtest docdb._docdb

# The source path users take: `pip install ./bindings/python` in a clean venv (pip fetches
# maturin from PyPI and builds core + binding from source). Run by `make test`; it repeats
# the whole release build (about a minute more on 2 cores).
test-python-source:
	rm -rf $(ROOT)/target/py-source-venv
	$(PY_SYSTEM) -m venv $(ROOT)/target/py-source-venv
	CARGO_TARGET_DIR=$(ROOT)/target/py-source $(ROOT)/target/py-source-venv/bin/python -m pip \
		install --quiet --disable-pip-version-check $(PY_DIR)
	cd $(ROOT)/target && $(ROOT)/target/py-source-venv/bin/python -c \
		'import docdb, tempfile; s = docdb.open(tempfile.mkdtemp()); d = s.create_db("x"); d.put_json(1, {"ok": True}); assert d.read_json(1) == {"ok": True}; s.close(); print("pip install ./bindings/python: OK", docdb.__version__)'

demo-python: python-install
	rm -rf $(ROOT)/target/demo-python
	$(PY) $(ROOT)/examples/python/contacts.py $(ROOT)/target/demo-python
