# pipelines/common.mk: what the recipes share: where the programs are, YAML parameters, the naming of
# cached stages, quoting, budgets and plots. Included by every recipe; not a recipe. The pool's first
# stages (pack, dedup, decontam) are pool.mk's, shared the same way.
#
# How a stage is cached. Every stage's output is $(OUT)/NAME.KEY.wnw, where KEY is 16 hex digits of the
# SHA-256 of the stage's name, the files it reads and every parameter that changes its result:
#   - an input file counts by its identity: its real path, size, modification and change times to the
#     nanosecond, inode and device (stat -L; not its content, which would mean reading the whole pool
#     at every run), so another file, or the same file rewritten, gives another key, even when it is
#     older than the cache;
#   - a stage's own output counts by its name, which holds its key: a new key upstream renames every
#     stage after it.
# make then needs no times: a stage whose file exists is done; a changed input or parameter names a
# file that does not exist yet, so exactly the stages that depend on it run again, and going back to
# earlier values finds their files still there. Nothing is ever deleted but by `make clean`.
#
# Parameters are data: every value reaches its program as one shell word through $(call q,...), so
# spaces, quotes, backticks, $(...) and \n (a template's newline, for pack) pass unchanged. File
# names (POOL, QUERY, TARGET, CONFIG, OUT, ...) are make prerequisites and targets, which make cannot
# quote: they are checked instead, letters, digits and ._+,@/- only (nopath).
#
# Adding a cached stage takes a key and a rule; pool.mk's dedup stage between pack and the methods:
#     DEDUP ?= exact
#     POOL_DEDUP := $(call stage,dedup,$(POOL_PACKED) $(DEDUP))
#     $(POOL_DEDUP): $(POOL_PACKED)
#     	$(W)dedup --$(DEDUP) -o $@ $<
# (DEDUP checked to be one of three words first); then the next stage reads $(POOL_DEDUP) and names
# it in its own key. A stage that reads another file (DECONTAM=FILE) puts $(call ident,$(DECONTAM))
# in its key and the file among its prerequisites.
# A new parameter a YAML file may set also needs its line in yaml2mk's table of keys (yaml2mk(1)).

PIPELINES := $(dir $(lastword $(MAKEFILE_LIST)))

# Programs: from PATH, or from the directory W (with a trailing slash), e.g. W=build/rel/bin/
W ?=
# Threads for the stages that use them
JOBS ?= 2
# A JSON member to carry as a label (e.g. domain), for the composition of the selection; empty for none
LABEL ?=

SHELL = /bin/bash
.SHELLFLAGS = -o pipefail -ec
.DELETE_ON_ERROR:

# q: a value as one single-quoted shell word, whatever characters it holds.
q = '$(subst ','\'',$(1))'
# mq: a value as one shell word that a sub-make's command line takes literally ($ doubled).
mq = $(call q,$(subst $$,$$$$,$(1)))
# ident: the identity of a file (see above), or "missing".
ident = $(shell f=$(call q,$(1)); { realpath -- "$$f" && stat -L -c '%s %.9Y %.9Z %i %d' -- "$$f"; } 2>/dev/null || echo missing)
# stage NAME,KEYWORDS: the cache file of stage NAME; KEYWORDS are shell words (quoted values, file names).
stage = $(OUT)/$(1).$(shell printf '%s\n' $(call q,$(1)) $(2) | sha256sum | cut -c1-16).wnw
# nopath NAME: stops make unless the file name in variable NAME is of letters, digits and ._+,@/-
# only: make cannot quote a prerequisite (white space, %, :, # and $ mean something to it), so a file
# name is the one value the recipes check instead of quoting.
nopath = $(if $(or $(word 2,$($(1))),$(shell printf '%s\n' $(call q,$($(1))) | LC_ALL=C grep -q '[^A-Za-z0-9._+,@/-]' && echo bad)),\
	$(error $(1)='$($(1))': a file name for a recipe holds only letters, digits and ._+,@/- (link it under such a name)))

# clamp VALUE,FILE: a whole number VALUE, at most a tenth of FILE's records, as the TSDS reference clamps
# max_K and kde_K (a shell expression for a recipe).
clamp = $$(n=$$($(W)inspect $(2) | awk '/^records:/ { print $$2 }'); k=$(call q,$(1)); \
	case $$k in '' | *[!0-9]*) echo "$(notdir $(firstword $(MAKEFILE_LIST))): '$$k' is not a whole number" >&2; exit 2 ;; esac; \
	[ $$((n / 10)) -ge 2 ] || { echo "$(notdir $(firstword $(MAKEFILE_LIST))): $$n pool records: TSDS needs at least 20" >&2; exit 1; }; \
	echo $$((k < n / 10 ? k : n / 10)))

# Parameters may come from a YAML file: CONFIG=params.yaml (the documented keys of yaml2mk(1) only).
# Its make form is named by the file's identity, so another file, even an older one, is read afresh.
$(call nopath,OUT)
ifneq ($(CONFIG),)
$(call nopath,CONFIG)
CONFIG_MK := $(OUT)/config.$(shell printf '%s\n' $(call q,$(call ident,$(CONFIG))) | sha256sum | cut -c1-16).mk
# include, not -include: a file yaml2mk refuses must stop make, not leave the defaults in force.
include $(CONFIG_MK)
$(CONFIG_MK): $(CONFIG)
	@mkdir -p $(@D)
	$(W)yaml2mk $< > $@.tmp && mv $@.tmp $@
endif

PACK_LABEL = $(if $(LABEL),--field $(call q,$(LABEL):text))

# BUDGET=SIZE (suffixes k, M, G): select records up to SIZE bytes of text (or SIZE_FIELD's sum, pool.mk)
# instead of N records or draws (sample --budget). N then no longer counts: a selection without
# replacement may take every record (sample holds only what fits), TSDS's draws as many as the pool has
# records (16 bytes each).
BUDGET ?=
SIZE_FIELD ?=
BUDGET_ARGS = $(if $(BUDGET),--budget $(call q,$(BUDGET)) $(if $(SIZE_FIELD),--size size))
# how_many N: sample's count, N or with BUDGET the largest it takes; how_many_key N: its part of a key.
how_many = $(if $(BUDGET),1000000000,$(call q,$(1)))
how_many_key = $(if $(BUDGET),budget $(call q,$(BUDGET)) $(call q,$(SIZE_FIELD)),$(call q,$(1)))

# A recipe's all first names its selection $(OUT)/selected.jsonl and $(OUT)/selected.wnw (SEL: the stream).
link_selection = ln -sf $(notdir $(SEL:.wnw=.jsonl)) $(OUT)/selected.jsonl && ln -sf $(notdir $(SEL)) $(OUT)/selected.wnw

# $(call plot,SCORED.wnw,FIELD,SELECTED.wnw,OUT-PREFIX,POOL.wnw): PNG plots of FIELD with the
# selection marked, and of the selection's composition by LABEL beside the pool's.
plot = W=$(call q,$(W)) $(PIPELINES)plot-selection $(1) $(2) $(3) $(4) $(call q,$(LABEL)) $(5)
