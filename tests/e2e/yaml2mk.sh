# yaml2mk: YAML parameters as make variables
. "$(dirname "$0")/../lib.sh"

same "the TSDS reference's keys get the recipes' names" "$(yaml2mk "$TSDS_TOY/params.yaml" | tr '\n' ';')" \
	"N = 100;ALPHA = 0.5;C = 5.0;SIGMA = 0.75;K = 5000;KDE_K = 1000;"
printf 'out: a$b#c\n' >esc.yaml
cat >t.mk <<'MK'
include x.mk
all: ; @echo '$(OUT)'
MK
yaml2mk esc.yaml >x.mk
same "\$ and # reach make unchanged" "$(make -s -f t.mk)" 'a$b#c'
printf 'list: [1, 2]\n' >seq.yaml
fails 1 "seq.yaml: line 1: expected a scalar" "a sequence is refused, naming file and line" yaml2mk seq.yaml
printf 'a:\n  b: 1\n' >nest.yaml
fails 1 "nest.yaml: line 2: nested mappings" "a nested mapping is refused" yaml2mk nest.yaml
printf 'bad key: 1\n' >key.yaml
fails 1 "not a make variable name" "a key make cannot take is refused" yaml2mk key.yaml
printf 'a: [1\n' >broken.yaml
fails 1 "broken.yaml: line" "a syntax error names file and line" yaml2mk broken.yaml
fails 2 "cannot open" "a missing file is a usage error" yaml2mk missing.yaml
same "standard input is read without FILE" "$(printf 'k: 3\n' | yaml2mk)" "K = 3"
