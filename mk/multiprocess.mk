# Issue 13, item 6: eight client processes (three C, three Python, two Node) write and read
# one database through one `docdb serve` at once, checked against their models at the end
# (tests/multiprocess/README.md). The C worker links libdocdb and uses docdb_store_connect.

TESTS += test-multiprocess

MP_DIR := $(ROOT)/tests/multiprocess

.PHONY: test-multiprocess

test-multiprocess: lib-c cli python-install node-build
	mkdir -p $(C_OUT)
	$(C_CC) $(C_CFLAGS) -o $(C_OUT)/multiprocess-worker $(MP_DIR)/worker.c $(C_LDFLAGS)
	$(PY) $(MP_DIR)/run.py $(DOCDB) $(C_OUT)/multiprocess-worker
