# Crash safety and fault tolerance suites: error-injection and power-loss sweeps,
# kill -9 sweep and multi-process lock, bit-flip corruption sweep, fuzz corpus replay.
# Each prints its figures (cases, commits verified, losses). `DOCDB_KILL_ROUNDS=N` raises
# the number of SIGKILLs (default 200).
TESTS += test-crash

test-crash:
	$(CARGO) test --release -p docdb-core --test crash_sweeps --test crash_kill \
		--test crash_corruption --test fuzz_corpus -- --nocapture
