#!/bin/sh
# Profiles DocDB's workloads with callgrind (perf has no hardware counters in our VMs):
# one profile per workload function of the bench's DocDB adapter, toggled on that function
# only. Usage: bench/profile.sh [OUTDIR]   (after `cargo build --release -p docdb-bench`)
# Read a profile with: callgrind_annotate [--inclusive=yes] OUTDIR/cg.read_many
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/target/prof}
BIN=$ROOT/target/release/docdb-bench
mkdir -p "$OUT"
SIZES="--stores docdb --docs 20000 --reads 100000 --updates 5000 --update_batch 1000 \
  --single 8 --threads 2 --open_docs 1000 --open_batch 1000 --reps 1 --fsyncs 2 --seq_mib 1 \
  --bind_docs 10 --bind_reads 10 --bind_commits 2"
for w in read_many scan write_txn; do
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$w" --toggle-collect="*DocDb*$w*" \
    "$BIN" $SIZES --out "$OUT/report.md" --dir "$OUT/data-$w" >/dev/null 2>"$OUT/log.$w"
  echo "$OUT/cg.$w"
done
