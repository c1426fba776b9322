# pipelines/zipfit.mk: ZIP-FIT (Obbad et al., 2024) from JSONL to a selected JSONL: score every pool
# example by gzip compression alignment with the target examples, keep the top K. Stages are cached
# under $(OUT) in files named by a hash of the identity of their inputs and of their parameters
# (common.mk says how), so `make -f pipelines/zipfit.mk TOP=500` re-runs only the selection, and
# another TARGET or POOL, even one older than the cache, re-runs what reads it.
# Targets: all (default; $(OUT)/selected.jsonl, the stream $(OUT)/selected.wnw and the cleaned pool
# $(OUT)/pool.wnw), plots ($(OUT)/zipfit-*.png), clean.
#
# Before scoring, the pool goes through dedup and decontam (pool.mk: DEDUP=exact|minhash|none,
# default exact; DECONTAM=FILE, DECONTAM_TEXT, DECONTAM_NGRAM), so no selected record is a removed one.
# The selection's JSONL is each pool line as it was, with member zipfit_score added: a name of the
# recipe's own, so that a pool line's own score is kept, never replaced. BUDGET=SIZE keeps the best
# records up to SIZE bytes of text (or of the number member SIZE_FIELD) instead of the top TOP.

TARGET ?= target.jsonl
POOL ?= pool.jsonl
OUT ?= zipfit
# pack's --text for the pool and for the targets: a member name or a template
TEXT ?= text
QUERY_TEXT ?= $(TEXT)
LEVEL ?= 9
# FAST=1: gzfit --fast, compressions against the targets and background samples of the pool as zstd
# dictionaries: O(pool) instead of O(pool x targets), and it selected better data (gzfit(1))
FAST ?=
TOP ?= 1000

.DEFAULT_GOAL := all
include $(dir $(lastword $(MAKEFILE_LIST)))common.mk

include $(PIPELINES)pool.mk
GZFIT_ARGS = $(if $(FAST),--fast,--level $(call q,$(LEVEL)))
SCORED := $(call stage,score,$(POOL_CLEAN) $(TARGET_PACKED) $(GZFIT_ARGS))
SEL := $(call stage,top,$(SCORED) $(call how_many_key,$(TOP)))

.PHONY: all plots clean
all: $(SEL:.wnw=.jsonl)
	$(link_selection)
	@$(cleaned)
	@echo "zipfit: top $$(wc -l < $<) by score$(if $(BUDGET), within $(BUDGET)): $(OUT)/selected.jsonl"

$(SCORED): $(POOL_CLEAN) $(TARGET_PACKED)
	$(W)gzfit -t $(TARGET_PACKED) $(GZFIT_ARGS) -j $(call q,$(JOBS)) -o $@ $<
$(SEL): $(SCORED)
	$(W)sample --top $(call how_many,$(TOP)) --by score $(BUDGET_ARGS) -o $@ $<
$(SEL:.wnw=.jsonl): $(SEL)
	$(W)unpack --add score=zipfit_score -o $@ $<

plots: $(SEL)
	$(call plot,$(SCORED),score,$(SEL),$(OUT)/zipfit,$(POOL_CLEAN))

clean:
	rm -rf $(OUT)
