# Every core by default: the programs that take -j use $WINNOW_THREADS or every online CPU without it,
# and write the same bytes for -j 1, -j 3, the default and WINNOW_THREADS=3.
. "$(dirname "$0")/../lib.sh"

zipfit_toy
pack zipfit-toy/pool.jsonl | embed-hash -j 1 --dim 64 2>/dev/null >pool.wnw
pack zipfit-toy/target.jsonl | embed-hash -j 1 --dim 64 >queries.wnw

# same_any_j NAME CMD...: the command's output for -j 1 against -j 3, no -j, and WINNOW_THREADS=3.
same_any_j() {
	local name=$1; shift
	"$@" -j 1 >j1.out 2>/dev/null
	"$@" -j 3 >j3.out 2>/dev/null
	"$@" >jd.out 2>/dev/null
	WINNOW_THREADS=3 "$@" >je.out 2>/dev/null
	truthy "$name: output made" "[ -s j1.out ]"
	same_file "$name: -j 3 writes the bytes of -j 1" j3.out j1.out
	same_file "$name: so does the default (every CPU)" jd.out j1.out
	same_file "$name: and WINNOW_THREADS=3" je.out j1.out
}

same_any_j pack pack zipfit-toy/pool.jsonl
same_any_j embed-hash embed-hash --dim 64 pool.wnw
same_any_j knn-build knn-build -q queries.wnw -k 10 pool.wnw
same_any_j kde-dedup kde-dedup --sigma 0.5 -k 5 pool.wnw
same_any_j gzfit gzfit -t zipfit-toy/target.jsonl pool.wnw
same_any_j pursuit pursuit -k 10 -t queries.wnw --field vec pool.wnw
same_any_j "dedup --minhash" dedup --minhash pool.wnw
same_any_j "dedup --exact" dedup --exact pool.wnw
same_any_j decontam decontam -r queries.wnw pool.wnw

fails 2 "WINNOW_THREADS: '0'" "a bad WINNOW_THREADS is a usage error where it sets the thread count" \
	env WINNOW_THREADS=0 knn-build -q queries.wnw -k 10 pool.wnw
ok "but -j overrides it, unread" env WINNOW_THREADS=x knn-build -j 2 -q queries.wnw -k 10 -o /dev/null pool.wnw
ok "and a program without -j never reads it" env WINNOW_THREADS=x sample --top 3 --by id -o /dev/null pool.wnw
dedup --minhash --signatures pool.wnw >sig.wnw
ok "dedup --merge runs one thread with the default" dedup --minhash --merge -o merged.wnw sig.wnw
fails 2 "--merge takes no" "but refuses an explicit -j 2" dedup --minhash --merge -j 2 sig.wnw
