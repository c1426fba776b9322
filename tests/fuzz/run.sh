#!/usr/bin/env bash
# tests/fuzz/run.sh NAME...: builds each libFuzzer target tests/fuzz/NAME.c with clang
# (-fsanitize=fuzzer,address,undefined) against common/{stream,methods}/*.c and runs it for $FUZZ_SECONDS (default 30)
# on a copy of its seed corpus tests/fuzz/corpus/NAME/. Any crash, leak or sanitizer report fails.
# Crash inputs are left in build/fuzz/NAME-artifacts/. With no NAME, runs every target.
set -u
cd "$(dirname "$0")/../.." || exit 3
SECONDS_EACH=${FUZZ_SECONDS:-30}
CC=${FUZZ_CC:-clang}
OUT=build/fuzz
LIBS="-lzstd -lz -lyaml -ljansson -lopenblas -lutf8proc -lxxhash -lpthread -lm"
mkdir -p "$OUT"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done
fi
status=0
for name in "${names[@]}"; do
	src=tests/fuzz/$name.c
	[ -f "$src" ] || { echo "fuzz: no target $src" >&2; status=1; continue; }
	bin=$OUT/$name
	# shellcheck disable=SC2086
	if ! $CC -g -O1 -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Icommon/stream -Icommon/methods \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o "$bin" "$src" common/stream/*.c common/methods/*.c $LIBS; then
		echo "fuzz: $name: build failed" >&2
		status=1
		continue
	fi
	work=$(mktemp -d)
	art=$OUT/$name-artifacts
	mkdir -p "$art"
	seeds=tests/fuzz/corpus/$name
	echo "fuzz: $name for ${SECONDS_EACH}s"
	if ! "$bin" -max_total_time="$SECONDS_EACH" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$art/" "$work" "$seeds" >"$OUT/$name.log" 2>&1; then
		echo "fuzz: $name: FAILED (see $OUT/$name.log and $art/)" >&2
		tail -40 "$OUT/$name.log" >&2
		status=1
	else
		grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$OUT/$name.log" | sed "s/^/fuzz: $name: /"
	fi
	rm -rf "$work"
done
exit $status
