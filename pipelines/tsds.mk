# pipelines/tsds.mk: TSDS (Liu, Karbasi, Rekatsinas, NeurIPS 2024) from JSONL to a selected JSONL.
# Each stage's output is cached under $(OUT) in a file named by a hash of the identity of the files it
# reads and of every parameter it depends on (common.mk says how), so that
#     make -f pipelines/tsds.mk QUERY=q.jsonl POOL=pool.jsonl ALPHA=0.7
# re-runs only ot-weight and sample, another POOL or TEXT re-runs everything after it even when the
# file is older than the cache, and going back to earlier values re-runs nothing.
# Targets: all (default; $(OUT)/selected.jsonl, the stream $(OUT)/selected.wnw and the cleaned pool
# $(OUT)/pool.wnw), plots ($(OUT)/tsds-*.png), clean.
#
# Before embedding, the pool goes through dedup and decontam (pool.mk: DEDUP=exact|minhash|none,
# default exact; DECONTAM=FILE, DECONTAM_TEXT, DECONTAM_NGRAM), so no selected record is a removed one.
# The selection's JSONL is each pool line as it was, with members tsds_count (draws) and tsds_prob
# added: names of the recipe's own, so that a pool line's own count or prob is kept, never replaced.
#
# The defaults are the TSDS reference's, the same in pipelines/tsds, tsds-config(1) and the README:
# K 5000 and KDE_K 1000, each clamped to a tenth of the pool (at least 2) as the reference does,
# SIGMA 0.75, ALPHA 0.5, C 5, N 1000, SEED 0. N is the number of draws: a record drawn several times
# comes out once with its count, so the selection holds fewer than N distinct records; EXPAND=1
# writes each record as often as it was drawn (N lines). BUDGET=SIZE draws up to SIZE bytes of text
# (or of the number member SIZE_FIELD, a token count say) instead of N draws (common.mk).

QUERY ?= query.jsonl
POOL ?= pool.jsonl
# Or embeddings made elsewhere, one row per record (then QUERY and POOL are not read)
QUERY_NPY ?=
POOL_NPY ?=
OUT ?= tsds
# pack's --text for the pool and for the queries: a member name or a template such as {instruction}\n{output}
TEXT ?= text
QUERY_TEXT ?= $(TEXT)
DIM ?= 256
CHAR ?= 0
K ?= 5000
KDE_K ?= 1000
SIGMA ?= 0.75
ALPHA ?= 0.5
C ?= 5
N ?= 1000
SEED ?= 0
EXPAND ?=

.DEFAULT_GOAL := all
include $(dir $(lastword $(MAKEFILE_LIST)))common.mk

ifneq ($(POOL_NPY),)
$(call nopath,POOL_NPY)$(call nopath,QUERY_NPY)
POOL_VEC := $(call stage,pool-npy,$(call q,$(call ident,$(POOL_NPY))))
QUERY_VEC := $(call stage,query-npy,$(call q,$(call ident,$(QUERY_NPY))))
$(if $(DECONTAM)$(BUDGET),$(error POOL_NPY: embeddings alone have no texts for DECONTAM or BUDGET))
else
include $(PIPELINES)pool.mk
$(call nopath,QUERY)
QUERY_PACKED := $(call stage,query,$(call q,$(call ident,$(QUERY))) $(call q,$(QUERY_TEXT)))
EMBED_ARGS = --dim $(call q,$(DIM)) --char $(call q,$(CHAR))
POOL_VEC := $(call stage,embed,$(POOL_CLEAN) $(EMBED_ARGS))
QUERY_VEC := $(call stage,embed,$(QUERY_PACKED) $(EMBED_ARGS))
endif
KNN := $(call stage,knn,$(POOL_VEC) $(QUERY_VEC) $(call q,$(K)))
KDE := $(call stage,kde,$(KNN) $(call q,$(SIGMA)) $(call q,$(KDE_K)))
OT := $(call stage,ot,$(KDE) $(call q,$(ALPHA)) $(call q,$(C)))
SEL := $(call stage,sample,$(OT) $(call how_many_key,$(N)) $(call q,$(SEED)) $(call q,$(EXPAND)))

.PHONY: all plots clean
all: $(SEL:.wnw=.jsonl)
	$(link_selection)
	@$(if $(POOL_NPY),:,$(cleaned))
	@echo "tsds: $$(wc -l < $<) $(if $(EXPAND),lines,distinct records) from $(if $(BUDGET),the draws within $(BUDGET),$(N) draws): $(OUT)/selected.jsonl"

ifneq ($(POOL_NPY),)
$(POOL_VEC): $(POOL_NPY)
	@mkdir -p $(@D)
	$(W)pack --vectors $< -o $@
$(QUERY_VEC): $(QUERY_NPY)
	@mkdir -p $(@D)
	$(W)pack --vectors $< -o $@
else
$(QUERY_PACKED): $(QUERY)
	@mkdir -p $(@D)
	$(W)pack --text $(call q,$(QUERY_TEXT)) -o $@ $<
$(POOL_VEC): $(POOL_CLEAN)
	$(W)embed-hash $(EMBED_ARGS) -j $(call q,$(JOBS)) -o $@ $<
$(QUERY_VEC): $(QUERY_PACKED)
	$(W)embed-hash $(EMBED_ARGS) -j $(call q,$(JOBS)) -o $@ $<
endif

$(KNN): $(POOL_VEC) $(QUERY_VEC)
	$(W)knn-build -q $(QUERY_VEC) -k $(call clamp,$(K),$(POOL_VEC)) -j $(call q,$(JOBS)) -o $@ $(POOL_VEC)
$(KDE): $(KNN) $(POOL_VEC)
	$(W)kde-dedup --sigma $(call q,$(SIGMA)) -k $(call clamp,$(KDE_K),$(POOL_VEC)) -j $(call q,$(JOBS)) -o $@ $<
$(OT): $(KDE)
	$(W)ot-weight --alpha $(call q,$(ALPHA)) -C $(call q,$(C)) -o $@ $<
$(SEL): $(OT)
	$(W)sample -n $(if $(BUDGET),$(call clamp_pool),$(call q,$(N))) --by prob --seed $(call q,$(SEED)) \
		$(BUDGET_ARGS) $(if $(EXPAND),--expand) -o $@ $<
$(SEL:.wnw=.jsonl): $(SEL)
	$(W)unpack $(if $(EXPAND),--add prob=tsds_prob,--add count=tsds_count$(comma)prob=tsds_prob) -o $@ $<

comma := ,
# With BUDGET, TSDS's draws are bounded by the pool's size instead of N.
clamp_pool = $$($(W)inspect $(POOL_VEC) | awk '/^records:/ { print $$2 }')

plots: $(SEL)
	$(call plot,$(OT),prob,$(SEL),$(OUT)/tsds,$(if $(POOL_NPY),,$(POOL_CLEAN)))

clean:
	rm -rf $(OUT)
