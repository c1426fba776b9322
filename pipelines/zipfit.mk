# pipelines/zipfit.mk: ZIP-FIT (Obbad et al., 2024) from JSONL to a selected JSONL: score every pool
# example by gzip compression alignment with the target examples, keep the top K. Stages are cached
# under $(OUT) in files named by a hash of the identity of their inputs and of their parameters
# (common.mk says how), so `make -f pipelines/zipfit.mk TOP=500` re-runs only the selection, and
# another TARGET or POOL, even one older than the cache, re-runs what reads it.
# Targets: all (default; $(OUT)/selected.jsonl, and the stream $(OUT)/selected.wnw), plots ($(OUT)/zipfit-*.png), clean.

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

$(call nopath,POOL)$(call nopath,TARGET)
POOL_PACKED := $(call stage,pool,$(call q,$(call ident,$(POOL))) $(call q,$(TEXT)) $(call q,$(LABEL)))
TARGET_PACKED := $(call stage,target,$(call q,$(call ident,$(TARGET))) $(call q,$(QUERY_TEXT)))
GZFIT_ARGS = $(if $(FAST),--fast,--level $(call q,$(LEVEL)))
SCORED := $(call stage,score,$(POOL_PACKED) $(TARGET_PACKED) $(GZFIT_ARGS))
SEL := $(call stage,top,$(SCORED) $(call q,$(TOP)))

.PHONY: all plots clean
all: $(SEL:.wnw=.jsonl)
	ln -sf $(notdir $<) $(OUT)/selected.jsonl
	ln -sf $(notdir $(SEL)) $(OUT)/selected.wnw
	@echo "zipfit: top $$(wc -l < $<) by score: $(OUT)/selected.jsonl"

$(POOL_PACKED): $(POOL)
	@mkdir -p $(@D)
	$(W)pack --text $(call q,$(TEXT)) $(PACK_LABEL) -o $@ $<
$(TARGET_PACKED): $(TARGET)
	@mkdir -p $(@D)
	$(W)pack --text $(call q,$(QUERY_TEXT)) -o $@ $<
$(SCORED): $(POOL_PACKED) $(TARGET_PACKED)
	$(W)gzfit -t $(TARGET_PACKED) $(GZFIT_ARGS) -j $(call q,$(JOBS)) -o $@ $<
$(SEL): $(SCORED)
	$(W)sample --top $(call q,$(TOP)) --by score -o $@ $<
$(SEL:.wnw=.jsonl): $(SEL)
	$(W)unpack --add score -o $@ $<

plots: $(SEL)
	$(call plot,$(SCORED),score,$(SEL),$(OUT)/zipfit,$(POOL_PACKED))

clean:
	rm -rf $(OUT)
