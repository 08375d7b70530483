# Server mode (issue 13): the wire protocol crate (test vectors, fuzz corpus replay), the
# blocking client, and docdb-server end to end: Unix socket, TCP + token, TLS, graceful
# shutdown, one test per hostile client, and kill -9 under remote write load
# (`DOCDB_SERVER_KILLS=N`, default 50). Each suite prints its figures with --nocapture,
# repeated at the end.
TESTS += test-server

SERVER_TEST_LOG := $(ROOT)/target/test-server.log

# The figures (lines "figure: ...") are repeated at the end, where they are easy to find.
test-server:
	@mkdir -p $(dir $(SERVER_TEST_LOG))
	{ $(CARGO) test --release -p docdb-proto -p docdb-client -p docdb-server -- --nocapture \
		2>&1; echo $$? > $(SERVER_TEST_LOG).rc; } | tee $(SERVER_TEST_LOG)
	@echo "== server-mode figures =="; sed -n 's/.*figure: /  /p' $(SERVER_TEST_LOG)
	@exit $$(cat $(SERVER_TEST_LOG).rc)
