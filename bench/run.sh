#!/usr/bin/env bash
# Runs every benchmark of bench_test.go, interleaved, and prints
# benchstat's table and the ratios and targets of cmd/ratios.
#
# The test binary is built once. Each round then runs every benchmark once,
# each in a process of its own, in the same order; ROUNDS rounds give each
# benchmark ROUNDS samples, taken spread over the whole run rather than
# back to back, so that a machine's drift touches every row alike.
#
#   bench/run.sh                      # 8 rounds of 1s per benchmark
#   ROUNDS=10 BENCHTIME=2s bench/run.sh
#   BENCH='^(NotFound|Floor)' bench/run.sh   # only the matching benchmarks
#
# Environment:
#   ROUNDS     samples per benchmark (default 8; at least 6 for benchstat)
#   BENCHTIME  -test.benchtime of each sample: a time or Nx (default 1s)
#   BENCH      regexp on benchmark names such as NotFound/Library (default all)
#   OUT        directory for the results (default bench/out)
#   RATIOS_BY  statistic that judges the targets: median (default) or fastest
#
# Results: $OUT/results.txt (raw, benchstat's input), $OUT/benchstat.txt
# and $OUT/ratios.txt.
set -euo pipefail

cd "$(dirname "$0")"
ROUNDS=${ROUNDS:-8}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}
OUT=${OUT:-out}
RATIOS_BY=${RATIOS_BY:-median}

if [ "$ROUNDS" -lt 6 ]; then
	echo "run.sh: ROUNDS=$ROUNDS; benchstat wants at least 6 samples for a confidence interval" >&2
fi

mkdir -p "$OUT"
bin="$OUT/bench.test"
results="$OUT/results.txt"

echo "== machine"
echo "nproc: $(nproc)"
echo "uptime: $(uptime)"
go version

echo "== build"
go test -c -o "$bin" .
go build -o "$OUT/ratios" ./cmd/ratios

# One pass of every benchmark with one iteration: each checks its
# response before timing, so a broken scenario fails here, and the pass
# lists the benchmarks' names.
echo "== check"
check=$("$bin" -test.run '^$' -test.bench . -test.benchtime 1x) || {
	echo "$check"
	echo "run.sh: a scenario failed its check" >&2
	exit 1
}
names=()
while read -r name; do
	names+=("$name")
done < <(printf '%s\n' "$check" | sed -n 's/^Benchmark\([^ 	]*\)-[0-9]*[ 	].*/\1/p' | grep -E -- "$BENCH" || true)
if [ "${#names[@]}" -eq 0 ]; then
	echo "run.sh: no benchmark matches BENCH=$BENCH" >&2
	exit 1
fi
echo "${#names[@]} benchmarks × $ROUNDS rounds × $BENCHTIME"

# pattern anchors each level of a name: NotFound/Library matches
# ^BenchmarkNotFound$/^Library$ and not NotFound/LibraryJSONLog.
pattern() {
	local p="" part first=1
	local IFS=/
	for part in Benchmark$1; do
		if [ $first -eq 1 ]; then p="^$part\$"; first=0; else p="$p/^$part\$"; fi
	done
	printf '%s' "$p"
}

: >"$results"
start=$SECONDS
for ((round = 1; round <= ROUNDS; round++)); do
	printf 'round %d/%d ' "$round" "$ROUNDS"
	for name in "${names[@]}"; do
		"$bin" -test.run '^$' -test.bench "$(pattern "$name")" \
			-test.benchmem -test.benchtime "$BENCHTIME" -test.count 1 >"$OUT/sample.txt" || {
			cat "$OUT/sample.txt"
			echo "run.sh: $name failed in round $round" >&2
			exit 1
		}
		if ! grep -q "^Benchmark$name-" "$OUT/sample.txt"; then
			cat "$OUT/sample.txt"
			echo "run.sh: $name printed no result in round $round" >&2
			exit 1
		fi
		cat "$OUT/sample.txt" >>"$results"
		printf '.'
	done
	printf ' %ds, load %s\n' "$((SECONDS - start))" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
rm -f "$OUT/sample.txt"

echo "== after"
echo "uptime: $(uptime)"

echo
echo "== benchstat ($results)"
go tool benchstat "$results" | tee "$OUT/benchstat.txt"

echo
echo "== ratios"
"$OUT/ratios" -by "$RATIOS_BY" "$results" | tee "$OUT/ratios.txt"
