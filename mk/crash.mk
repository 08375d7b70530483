# Crash safety and fault tolerance suites: error-injection and power-loss
# sweeps, crash sweeps over sequences of process lifetimes on the harsh simulated disk
# (kill -9, power loss with torn/dropped/garbage sectors, fsyncgate), named crash
# regressions, kill -9 sweep and multi-process lock, bit-flip corruption sweep, fuzz corpus
# replay. Each prints its figures (cases, crash states, commits verified, losses).
# `DOCDB_KILL_ROUNDS=N` raises the number of SIGKILLs (default 200); `DOCDB_SEQ_CASES=N` the
# cases of each sequence sweep; `DOCDB_SEQ_SEED=<hex>` replays one (test `replay_seed`).
TESTS += test-crash

test-crash:
	$(CARGO) test --release -p docdb-core --test crash_sweeps --test crash_kill \
		--test crash_corruption --test fuzz_corpus --test crash_sequences \
		--test crash_regressions -- --nocapture
