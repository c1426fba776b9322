# pipelines/dsir.mk: DSIR (Xie, Santurkar, Ma and Liang, 2023) from JSONL to a selected JSONL: weigh every
# pool example by hashed word n-gram models of the target examples and of the pool (dsir(1)), then draw
# N distinct examples in proportion to their importance weights (Gumbel top-k on the log weights,
# sample --without-replacement --log). Stages are cached under $(OUT) in files named by a hash of the
# identity of their inputs and of their parameters (common.mk says how), so `make -f
# pipelines/dsir.mk SEED=1` re-runs only the draw, and another TARGET or POOL, even one older than the
# cache, re-runs what reads it.
# Targets: all (default; $(OUT)/selected.jsonl, the stream $(OUT)/selected.wnw and the cleaned pool
# $(OUT)/pool.wnw), plots ($(OUT)/dsir-*.png), clean.
#
# Before weighing, the pool goes through dedup and decontam (pool.mk: DEDUP=exact|minhash|none,
# default exact; DECONTAM=FILE, DECONTAM_TEXT, DECONTAM_NGRAM), so no selected record is a removed one.
# The selection's JSONL is each pool line as it was, with member dsir_logw (the log importance weight)
# added: a name of the recipe's own, so that a pool line's own members are kept, never replaced.
# BUDGET=SIZE draws up to SIZE bytes of text (or of the number member SIZE_FIELD) instead of N records.
# The defaults, 10,000 buckets and word 1-2-grams, are dsir's, chosen on ../shared/eval (README, Quality).

TARGET ?= target.jsonl
POOL ?= pool.jsonl
OUT ?= dsir
# pack's --text for the pool and for the targets: a member name or a template
TEXT ?= text
QUERY_TEXT ?= $(TEXT)
BUCKETS ?= 10000
NGRAM ?= 1-2
N ?= 1000
SEED ?= 0

.DEFAULT_GOAL := all
include $(dir $(lastword $(MAKEFILE_LIST)))common.mk
include $(PIPELINES)pool.mk

DSIR_ARGS = --buckets $(call q,$(BUCKETS)) --ngram $(call q,$(NGRAM))
WEIGHED := $(call stage,logw,$(POOL_CLEAN) $(TARGET_PACKED) $(DSIR_ARGS))
SEL := $(call stage,draw,$(WEIGHED) $(call how_many_key,$(N)) $(call q,$(SEED)))

.PHONY: all plots clean
all: $(SEL:.wnw=.jsonl)
	$(link_selection)
	@$(cleaned)
	@echo "dsir: $$(wc -l < $<) records drawn by importance weight$(if $(BUDGET), within $(BUDGET)): $(OUT)/selected.jsonl"

$(WEIGHED): $(POOL_CLEAN) $(TARGET_PACKED)
	$(W)dsir -t $(TARGET_PACKED) $(DSIR_ARGS) -o $@ $<
$(SEL): $(WEIGHED)
	$(W)sample -n $(call how_many,$(N)) --without-replacement --log --by logw --seed $(call q,$(SEED)) \
		$(BUDGET_ARGS) -o $@ $<
$(SEL:.wnw=.jsonl): $(SEL)
	$(W)unpack --add logw=dsir_logw -o $@ $<

plots: $(SEL)
	$(call plot,$(WEIGHED),logw,$(SEL),$(OUT)/dsir,$(POOL_CLEAN))

clean:
	rm -rf $(OUT)
