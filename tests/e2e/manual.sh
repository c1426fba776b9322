# The worked example of winnow(7) runs as printed: every command of its literal displays, in order.
. "$(dirname "$0")/../lib.sh"

ln -s "$TOP/demo" demo
awk '/^\.Bd -literal/ { on = 1; next } /^\.Ed/ { on = 0; next } on' "$TOP/man/man7/winnow.7" |
	grep -v '^make ' | sed 's/  *#.*$//; s/\\e/\\/g' >steps.sh
truthy "winnow(7) shows at least twelve commands" '[ "$(grep -c . steps.sh)" -ge 12 ]'
while IFS= read -r step; do
	ok "winnow(7): $step" bash -o pipefail -c "$step"
done <steps.sh
truthy "the TSDS sample drew 30 times" \
	'[ "$(unpack --tsv count tsds.wnw | tail -n +2 | awk "{ s += \$1 } END { print s }")" = 30 ]'
same "the ZIP-FIT top 30 are all Python" "$(sample --top 30 --by score scored.wnw | unpack --tsv domain | tail -n +2 | sort -u)" python
