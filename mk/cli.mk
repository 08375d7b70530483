# The docdb command-line tool (issue 15): cli/ builds target/release/docdb. Its tests run
# the built binary (cli/tests); the demo shows it on the Rust demo's store.

DEMOS += demo-cli
TESTS += test-cli

DOCDB := $(ROOT)/target/release/docdb
CLI_DEMO := $(ROOT)/target/demo-cli

.PHONY: cli test-cli demo-cli

cli:
	$(CARGO) build --release -p docdb-cli

test-cli:
	$(CARGO) test --release -p docdb-cli

# Runs after demo-rust, whose store it inspects, checks and backs up; then loads a dump of
# it, with JSON documents next to it, into a store of its own.
demo-cli: demo-rust cli
	rm -rf $(CLI_DEMO)
	$(DOCDB) ls $(ROOT)/target/demo-rust
	$(DOCDB) stats $(ROOT)/target/demo-rust
	$(DOCDB) dump $(ROOT)/target/demo-rust notes | tee $(CLI_DEMO).jsonl
	$(DOCDB) check $(ROOT)/target/demo-rust
	$(DOCDB) backup $(ROOT)/target/demo-rust $(CLI_DEMO)/backup
	$(DOCDB) check $(CLI_DEMO)/backup
	$(DOCDB) load --create $(CLI_DEMO)/store notes -i $(CLI_DEMO).jsonl
	printf '{"name":"Ada","langs":["en","fr"]}' | $(DOCDB) put --create $(CLI_DEMO)/store people 1
	$(DOCDB) get --pretty $(CLI_DEMO)/store people 1
	$(DOCDB) compact $(CLI_DEMO)/store
	$(DOCDB) dump $(CLI_DEMO)/store
