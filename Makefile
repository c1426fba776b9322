# winnow: a suite of small C filters over one record stream (see README.md).
# Programs are every filters/*.c, unit tests every tests/unit/*.c; nothing here lists them by name.

CC ?= cc
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
# The programs go to LIBEXECDIR, and only the winnow dispatcher to BINDIR (winnow pack ...), so that
# short names such as pack and pick collide with nothing on PATH.
LIBEXECDIR = $(PREFIX)/libexec/winnow
MANDIR = $(PREFIX)/share/man
SHAREDIR = $(PREFIX)/share/winnow

OPT ?= -O2
CFLAGS ?= -g $(OPT)
WARN = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wundef -Wvla -Wcast-qual -Wwrite-strings -Werror=implicit-function-declaration
CPPFLAGS += -Icommon/stream -Icommon/methods -Icommon -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
# --as-needed: a program loads only the libraries it calls (OpenBLAS starts threads that spin for a
# tenth of a second of CPU time in every process that loads it).
LIBS = -Wl,--as-needed -lzstd -lz -lyaml -ljansson -lopenblas -lutf8proc -lxxhash -lpthread -lm

# make check SANITIZE=1 builds everything with ASan and UBSan into a separate tree.
ifneq ($(SANITIZE),)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
B = build/san
else ifneq ($(EMU512),)
# make check-avx512: the AVX-512 kernels built for AVX2 through SIMDe (common/stream/isa512.h), a test
# build for CPUs without AVX-512.
EMUFLAGS = -DWNW_SIMDE_AVX512 -mavx2 -mfma -mpclmul
B = build/emu512
else
B = build/rel
endif
# make DEV=1: warnings are errors (what CI builds with, .ci/run).
ifneq ($(DEV),)
WARN += -Werror
endif
ALLCFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) $(EMUFLAGS)

# common/ in two rooms: stream/ (the format, I/O and what every program shares) and methods/ (the
# selection methods' kernels); see common/README.
COMMON_SRC = $(sort $(wildcard common/*.c common/stream/*.c common/methods/*.c))
COMMON_H = $(wildcard common/*.h common/stream/*.h common/methods/*.h)
COMMON_OBJ = $(COMMON_SRC:common/%.c=$(B)/common/%.o)
LIB = $(B)/libwinnow.a
PROGS = $(sort $(patsubst filters/%.c,%,$(wildcard filters/*.c)))
BINS = $(PROGS:%=$(B)/bin/%)
UNIT = $(sort $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/*.c)))
UNITBINS = $(UNIT:%=$(B)/tests/%)
FUZZ = $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZBINS = $(FUZZ:%=$(B)/fuzz/%)
MAN1 = $(wildcard man/man1/*.1)
MAN5 = $(wildcard man/man5/*.5)
MAN7 = $(wildcard man/man7/*.7)

DEBS = gcc make zlib1g-dev libzstd-dev libyaml-dev libjansson-dev libopenblas-dev libutf8proc-dev \
	libxxhash-dev libsimde-dev zstd mandoc groff-base cppcheck clang python3 python3-numpy parallel gnuplot-nox
BENCH_DEBS = python3-faiss python3-sklearn hyperfine

.PHONY: all deps bench-deps check check-avx512 fuzz lint install uninstall demo clean bench
all: $(LIB) $(BINS) $(UNITBINS) $(FUZZBINS)

$(B)/common/%.o: common/%.c $(COMMON_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/bin/%: filters/%.c $(LIB) $(COMMON_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -o $@ $< $(LIB) $(LIBS)

$(B)/tests/%: tests/unit/%.c $(LIB) $(COMMON_H) tests/unit/*.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -o $@ $< $(LIB) $(LIBS)

# Each fuzz harness with a plain main() that replays files (tests/e2e/fuzz-replay.sh runs them).
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/*.h $(LIB) $(COMMON_H)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -o $@ $< tests/fuzz/replay.c $(LIB) $(LIBS)

# Installs the Debian packages the build and tests need, skipping those already present.
deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

bench-deps:
	@$(MAKE) --no-print-directory deps DEBS="$(DEBS) $(BENCH_DEBS)"

check: deps
	@$(MAKE) --no-print-directory -j2 all
	@B=$(B) tests/run.sh

# The AVX-512 kernels where the CPU has only AVX2: the tests that compare kernel levels and those of the
# programs that run them, on the emulated build (EMU512 above). Real AVX-512 CPUs run them in make check.
check-avx512: deps
	@$(MAKE) --no-print-directory -j2 EMU512=1 all
	@B=build/emu512 ONLY='unit/(isa|crc|minhash|knn|knncells)|e2e/(isa|knn-build|knn-crowd|knn-items|kde-dedup|dedup|threads|tsds)' \
		tests/run.sh

fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-30} tests/fuzz/run.sh $(FUZZ)

# The manuals, and the C sources through cppcheck's checks that find bugs (not its style checks).
lint:
	mandoc -T lint -W warning $(MAN1) $(MAN5) $(MAN7)
	cppcheck --quiet --inline-suppr --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		-I common/stream -I common/methods common filters tests/unit tests/fuzz bench

demo: deps
	@$(MAKE) --no-print-directory -j2 all
	@B=$(B) demo/run.sh

bench: bench-deps
	@$(MAKE) --no-print-directory -j2 all
	@for b in bench/*.sh; do B=$(B) $$b; done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(SHAREDIR)/pipelines
	install -m 755 $(BINS) $(DESTDIR)$(LIBEXECDIR)
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|' tools/winnow.in >$(B)/winnow
	install -m 755 $(B)/winnow $(DESTDIR)$(BINDIR)/winnow
	install -m 644 pipelines/*.mk $(DESTDIR)$(SHAREDIR)/pipelines
	install -m 755 pipelines/tsds pipelines/plot-selection pipelines/overlap $(DESTDIR)$(SHAREDIR)/pipelines
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/winnow $(PROGS:%=$(DESTDIR)$(LIBEXECDIR)/%)
	-rmdir $(DESTDIR)$(LIBEXECDIR)
	rm -f $(MAN1:man/man1/%=$(DESTDIR)$(MANDIR)/man1/%) $(MAN5:man/man5/%=$(DESTDIR)$(MANDIR)/man5/%) \
		$(MAN7:man/man7/%=$(DESTDIR)$(MANDIR)/man7/%)
	rm -rf $(DESTDIR)$(SHAREDIR)

clean:
	rm -rf build
