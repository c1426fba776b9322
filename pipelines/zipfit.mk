# pipelines/zipfit.mk: ZIP-FIT (Obbad et al., 2024) from JSONL to a selected JSONL: score every pool
# example by gzip compression alignment with the target examples, keep the top K. Stages are cached
# under $(OUT) named by their parameters, so `make -f pipelines/zipfit.mk TOP=500` re-runs only the
# selection. Targets: all (default; $(OUT)/selected.jsonl), plots ($(OUT)/zipfit-*.png), clean.

TARGET ?= target.jsonl
POOL ?= pool.jsonl
OUT ?= zipfit
TEXT ?= text
LEVEL ?= 9
# FAST=1: gzfit --fast, compressions against the targets and background samples of the pool as zstd
# dictionaries: O(pool) instead of O(pool x targets), and it selected better data (gzfit(1))
FAST ?=
TOP ?= 1000

.DEFAULT_GOAL := all
include $(dir $(lastword $(MAKEFILE_LIST)))common.mk

MODE := $(if $(FAST),fast,l$(LEVEL))
SCORED := $(OUT)/score.$(MODE).wnw
SEL := $(OUT)/top.$(MODE).k$(TOP).wnw

.PHONY: all plots clean
all: $(SEL:.wnw=.jsonl)
	ln -sf $(notdir $<) $(OUT)/selected.jsonl
	@echo "zipfit: top $$(wc -l < $<) by score: $(OUT)/selected.jsonl"

$(OUT)/pool.wnw: $(POOL)
	@mkdir -p $(@D)
	$(W)pack --text $(TEXT) $(PACK_LABEL) -o $@ $<
$(OUT)/target.wnw: $(TARGET)
	@mkdir -p $(@D)
	$(W)pack --text $(TEXT) -o $@ $<
$(SCORED): $(OUT)/pool.wnw $(OUT)/target.wnw
	$(W)gzfit -t $(OUT)/target.wnw $(if $(FAST),--fast,--level $(LEVEL)) -j $(JOBS) -o $@ $<
$(SEL): $(SCORED)
	$(W)sample --top $(TOP) --by score -o $@ $<
$(SEL:.wnw=.jsonl): $(SEL)
	$(W)unpack --add score -o $@ $<

plots: $(SEL)
	$(call plot,$(SCORED),score,$(SEL),$(OUT)/zipfit,$(OUT)/pool.wnw)

clean:
	rm -rf $(OUT)
