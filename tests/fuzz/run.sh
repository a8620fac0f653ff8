#!/bin/bash
# tests/fuzz/run.sh - run every libFuzzer target briefly (make check).
#
#   tests/fuzz/run.sh [SECONDS]      (default 5 each; FUZZ_SECONDS too)
#
# Each build/fuzz/fuzz_T (make fuzz) first replays its committed seeds,
# tests/fuzz/corpus/T, then mutates them for SECONDS.  The committed
# corpus is read only: new inputs go to a scratch directory.  A crash,
# an abort on a broken invariant, a leak or a timeout fails the run; the
# input is kept in build/fuzz/findings/ and named in the output.
set -uo pipefail
cd "$(dirname "$0")/../.."

SECONDS_EACH=${1:-${FUZZ_SECONDS:-5}}
FINDINGS=build/fuzz/findings
SCRATCH=$(mktemp -d /tmp/secretd-fuzz.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$FINDINGS"

failed=()
n=0
for src in tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	name=${t#fuzz_}
	bin=build/fuzz/$t
	corpus=tests/fuzz/corpus/$name
	n=$((n + 1))
	if [ ! -x "$bin" ]; then
		echo "FAIL $t: $bin not built (make fuzz)"
		failed+=("$t")
		continue
	fi
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "FAIL $t: no seed corpus in $corpus"
		failed+=("$t")
		continue
	fi
	mkdir -p "$SCRATCH/$name"
	log=$SCRATCH/$name.log
	# -timeout: seconds one input may take; -max_len: the parsers'
	# own limits are larger, but their interesting part is the start.
	if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -max_len=8192 \
		-rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$FINDINGS/$t-" \
		"$SCRATCH/$name" "$corpus" >"$log" 2>&1; then
		printf '   %-14s %s\n' "$t" "$(awk '/stat::number_of_executed_units/ { print $2 " runs" }' "$log")"
	else
		echo "FAIL $t:"
		grep -E 'ERROR|SUMMARY|Test unit written|^#[0-9]+ .*(crash|abort)' "$log" | head -n 20
		failed+=("$t")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "== fuzz: ${#failed[@]} of $n targets FAILED: ${failed[*]} (inputs in $FINDINGS/)"
	exit 1
fi
echo "== fuzz: $n targets, ${SECONDS_EACH}s each: no findings"
