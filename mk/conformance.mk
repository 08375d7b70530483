# The conformance suite: the scenarios of tests/conformance/scenarios (format in
# tests/conformance/README.md), run through every face by its own small runner. Each face's
# target builds that face first (mk/c.mk, mk/python.mk, mk/node.mk).

TESTS += test-conformance

CONF_DIR := $(ROOT)/tests/conformance

.PHONY: test-conformance test-conformance-c test-conformance-python test-conformance-node

test-conformance: test-conformance-c test-conformance-python test-conformance-node \
	test-conformance-go

# Both modes: in-process, then remote (every store served by `docdb serve`, see
# tests/conformance/README.md "Remote mode").
test-conformance-c: lib-c cli
	mkdir -p $(C_OUT)
	$(C_CC) $(C_CFLAGS) -g -o $(C_OUT)/conformance $(CONF_DIR)/runners/c/runner.c $(C_LDFLAGS)
	$(C_VALGRIND) $(C_OUT)/conformance $(CONF_DIR)/scenarios/*.json
	$(C_VALGRIND) $(C_OUT)/conformance --remote $(DOCDB) $(CONF_DIR)/scenarios/*.json

# Python and Node run every scenario in both modes: in-process, then remote (each store
# served by target/release/docdb serve; tests/conformance/README.md, "Remote mode").
test-conformance-python: python-install cli
	cd $(CONF_DIR)/runners/python && $(PY) -m pytest -q -p no:cacheprovider test_conformance.py

test-conformance-node: node-build cli
	node --test $(CONF_DIR)/runners/node/
