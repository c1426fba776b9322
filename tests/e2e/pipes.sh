#!/usr/bin/env bash
# End-to-end tests of streams written into pipes: the writer hands the pipe whole pages (vmsplice)
# where it can, and a stream through a pipe must be the bytes written to a file, whatever the reader's
# pace, record sizes (one larger than the writer's 2 MiB blocks) and threads.
source "$(dirname "$0")/../lib.sh"

# 3,000 records of 1 to 3 KB (about 6 MB), and one record of 5 MB among small ones
awk 'BEGIN { for (i = 0; i < 3000; i++) { s = ""; n = 1000 + (i * 7919) % 2000;
	for (j = 0; j < n; j++) s = s sprintf("%c", 97 + (i + j * j) % 26); printf "{\"text\": \"%s\"}\n", s } }' >many.jsonl
awk 'BEGIN { printf "{\"text\": \"small\"}\n"; s = "0123456789abcdef"; while (length(s) < 5000000) s = s s;
	printf "{\"text\": \"%s\"}\n{\"text\": \"after\"}\n", s }' >big.jsonl

pack many.jsonl >many-file.wnw
pack many.jsonl | cat >many-pipe.wnw
same_file "6 MB of records through a pipe are the bytes written to a file" many-pipe.wnw many-file.wnw
pack many.jsonl | (sleep 1; cat) >slow.wnw
same_file "the same when the reader is slow to start (the pipe full, the writer ahead of it)" slow.wnw many-file.wnw
pack big.jsonl >big-file.wnw
pack big.jsonl | cat >big-pipe.wnw
same_file "a 5 MB record, more than the writer's block, through a pipe" big-pipe.wnw big-file.wnw
ok "and the stream checks" inspect --check big-pipe.wnw
embed-hash -j 2 --dim 64 <many-file.wnw >emb-file.wnw
embed-hash -j 2 --dim 64 <many-file.wnw | cat >emb-pipe.wnw
same_file "records put by worker threads (embed-hash -j 2) through a pipe" emb-pipe.wnw emb-file.wnw
pack many.jsonl | embed-hash -j 2 --dim 64 | inspect --check - >/dev/null
same "a chain of three programs checks at the end" "${PIPESTATUS[*]}" "0 0 0"
pack -z 3 many.jsonl >z-file.wnw
pack -z 3 many.jsonl | cat >z-pipe.wnw
same_file "zstd output through a pipe (written, not given)" z-pipe.wnw z-file.wnw
pack many.jsonl | head -c 100 >/dev/null
same "a downstream that closes early ends the writer quietly" "${PIPESTATUS[0]}" "0"
pack many.jsonl | /usr/bin/python3 "$TOP/tests/e2e/pipe_hold.py" held.wnw
same_file "the same when the reader splices the pages on and holds them (a given page is never written again)" \
	held.wnw many-file.wnw
