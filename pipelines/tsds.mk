# pipelines/tsds.mk: TSDS (Liu, Karbasi, Rekatsinas, NeurIPS 2024) from JSONL to a selected JSONL.
# Each stage's output is cached under $(OUT) in a file named by the parameters it depends on, so that
#     make -f pipelines/tsds.mk QUERY=q.jsonl POOL=pool.jsonl ALPHA=0.7
# re-runs only ot-weight and sample, and going back to an earlier value re-runs nothing.
# Targets: all (default; $(OUT)/selected.jsonl), plots ($(OUT)/tsds-*.png), clean.

QUERY ?= query.jsonl
POOL ?= pool.jsonl
# Or embeddings made elsewhere, one row per record (then QUERY and POOL are not read)
QUERY_NPY ?=
POOL_NPY ?=
OUT ?= tsds
TEXT ?= text
DIM ?= 256
CHAR ?= 0
K ?= 100
KDE_K ?= 100
SIGMA ?= 0.5
ALPHA ?= 0.5
C ?= 1
N ?= 1000
SEED ?= 1

.DEFAULT_GOAL := all
include $(dir $(lastword $(MAKEFILE_LIST)))common.mk

E := $(if $(POOL_NPY),npy,e$(DIM)c$(CHAR))
KNN := $(OUT)/knn.$(E).k$(K).wnw
KDE := $(OUT)/kde.$(E).k$(K).s$(SIGMA).kk$(KDE_K).wnw
OT := $(OUT)/ot.$(E).k$(K).s$(SIGMA).kk$(KDE_K).a$(ALPHA).c$(C).wnw
SEL := $(OUT)/sample.$(E).k$(K).s$(SIGMA).kk$(KDE_K).a$(ALPHA).c$(C).n$(N).seed$(SEED).wnw

.PHONY: all plots clean
all: $(SEL:.wnw=.jsonl)
	ln -sf $(notdir $<) $(OUT)/selected.jsonl
	@echo "tsds: $$(wc -l < $<) distinct records, $(N) draws: $(OUT)/selected.jsonl"

ifneq ($(POOL_NPY),)
$(OUT)/pool.$(E).wnw: $(POOL_NPY)
	@mkdir -p $(@D)
	$(W)pack --vectors $< -o $@
$(OUT)/query.$(E).wnw: $(QUERY_NPY)
	@mkdir -p $(@D)
	$(W)pack --vectors $< -o $@
else
$(OUT)/pool.wnw: $(POOL)
	@mkdir -p $(@D)
	$(W)pack --text $(TEXT) $(PACK_LABEL) -o $@ $<
$(OUT)/query.wnw: $(QUERY)
	@mkdir -p $(@D)
	$(W)pack --text $(TEXT) -o $@ $<
$(OUT)/%.$(E).wnw: $(OUT)/%.wnw
	$(W)embed-hash --dim $(DIM) --char $(CHAR) -j $(JOBS) -o $@ $<
endif

$(KNN): $(OUT)/pool.$(E).wnw $(OUT)/query.$(E).wnw
	$(W)knn-build -q $(OUT)/query.$(E).wnw -k $(K) -j $(JOBS) -o $@ $<
$(KDE): $(KNN)
	$(W)kde-dedup --sigma $(SIGMA) -k $(KDE_K) -j $(JOBS) -o $@ $<
$(OT): $(KDE)
	$(W)ot-weight --alpha $(ALPHA) -C $(C) -o $@ $<
$(SEL): $(OT)
	$(W)sample -n $(N) --by prob --seed $(SEED) -o $@ $<
$(SEL:.wnw=.jsonl): $(SEL)
	$(W)unpack --add count,prob -o $@ $<

plots: $(SEL)
	$(call plot,$(OT),prob,$(SEL),$(OUT)/tsds,$(if $(POOL_NPY),,$(OUT)/pool.wnw))

clean:
	rm -rf $(OUT)
