# Server mode (issue 13): the wire protocol crate (test vectors, fuzz corpus replay), the
# blocking client, and docdb-server end to end: Unix socket, TCP + token, TLS, graceful
# shutdown, one test per hostile client, and kill -9 under remote write load
# (`DOCDB_SERVER_KILLS=N`, default 50). Each suite prints its figures with --nocapture.
TESTS += test-server

test-server:
	$(CARGO) test --release -p docdb-proto -p docdb-client -p docdb-server -- --nocapture
