# Every manual renders cleanly with groff (what man -l uses) and with mandoc, not one of them only.
. "$(dirname "$0")/../lib.sh"

for f in "$TOP"/man/man*/*.[157]; do
	name=${f#"$TOP"/}
	same "$name: groff -mandoc -ww -z prints nothing" "$(groff -mandoc -ww -z "$f" 2>&1)" ""
	same "$name: the same on a UTF-8 terminal" "$(groff -mandoc -Tutf8 -ww -z "$f" 2>&1)" ""
	same "$name: mandoc -T lint -W warning prints nothing" "$(mandoc -T lint -W warning "$f" 2>&1)" ""
done
# mdoc calls a macro named by a word of a reference (Li, the literal macro, in an author's name)
# unless it is escaped; groff then dropped the references of these two pages.
truthy "pursuit(1) shows its references under groff" \
	"groff -mandoc -Tutf8 -P-cbou '$TOP/man/man1/pursuit.1' 2>/dev/null | grep -q 'Zhiwei Deng, Tao Li, and Yang Li'"
truthy "gradex(1) too" \
	"groff -mandoc -Tutf8 -P-cbou '$TOP/man/man1/gradex.1' 2>/dev/null | grep -q 'Dongyue Li, Ziniu Zhang'"
