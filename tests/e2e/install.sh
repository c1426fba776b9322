# make install into a temporary prefix: only the winnow dispatcher goes on PATH (PREFIX/bin), the
# programs into PREFIX/libexec/winnow; the README's examples in their installed forms; make uninstall.
. "$(dirname "$0")/../lib.sh"

P=$T/prefix
ok "make install into a temporary prefix" make -s -C "$TOP" install PREFIX="$P" B="$B"
same "PREFIX/bin holds the dispatcher alone: no name that other packages use (pack, pick, sample)" \
	"$(ls "$P/bin")" winnow
truthy "the programs are in PREFIX/libexec/winnow" "[ -x '$P/libexec/winnow/pack' ] && [ -x '$P/libexec/winnow/knn-build' ]"
same "winnow --exec-path names that directory" "$("$P/bin/winnow" --exec-path)" "$P/libexec/winnow"
truthy "winnow --help lists the programs" "'$P/bin/winnow' --help | grep -q 'knn-build'"
fails 2 "no program 'nosuch'" "an unknown program is a usage error" "$P/bin/winnow" nosuch
fails 2 "no program" "and no path escapes the directory" "$P/bin/winnow" ../libexec/winnow/pack

printf '{"text": "the cat sat on the mat"}\n{"text": "a dog ran in the park"}\n{"text": "the cat ran"}\n' >pool.jsonl
printf '{"text": "a cat on a mat"}\n' >q.jsonl
# The README's quick chain, as `winnow PROGRAM` ...
W="$P/bin/winnow"
"$W" pack q.jsonl | "$W" embed-hash >q.wnw
"$W" pack pool.jsonl | "$W" embed-hash | "$W" knn-build -q q.wnw -k 2 | "$W" kde-dedup --sigma 0.75 -k 2 |
	"$W" ot-weight --alpha 0.5 -C 5 | "$W" sample -n 10 | "$W" unpack --add count >dispatched.jsonl 2>/dev/null
truthy "the TSDS chain runs through the dispatcher" "[ -s dispatched.jsonl ]"
# ... and as printed, with the exec path first on PATH
(PATH=$("$W" --exec-path):$PATH
 pack q.jsonl | embed-hash >q2.wnw
 pack pool.jsonl | embed-hash | knn-build -q q2.wnw -k 2 | kde-dedup --sigma 0.75 -k 2 |
	ot-weight --alpha 0.5 -C 5 | sample -n 10 | unpack --add count >printed.jsonl) 2>/dev/null
same_file "and as printed, with \$(winnow --exec-path) on PATH, to the same selection" printed.jsonl dispatched.jsonl
truthy "the man pages are installed" "[ -f '$P/share/man/man1/knn-build.1' ] && [ -f '$P/share/man/man5/winnow.5' ]"
truthy "the recipes are installed" "[ -f '$P/share/winnow/pipelines/tsds.mk' ] && [ -x '$P/share/winnow/pipelines/tsds' ]"
zipfit_toy
(PATH=/usr/bin:/bin "$P/share/winnow/pipelines/tsds" -q -n 50 -C 1 -d cache -o recipe.jsonl \
	zipfit-toy/target.jsonl zipfit-toy/pool.jsonl)
truthy "the installed tsds recipe finds the installed programs with none on PATH" "[ -s recipe.jsonl ]"
ok "make uninstall" make -s -C "$TOP" uninstall PREFIX="$P" B="$B"
same "leaves no file behind" "$(find "$P" -type f | wc -l)" 0
