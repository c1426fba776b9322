# pipelines/sharded.mk: the per-record stages (embed-hash, gzfit) and the neighbour search (knn-build)
# of a pool run in SHARDS parts with GNU parallel, on this machine or on several (HOSTS), then joined
# to exactly the result of a single run: shard --merge restores the pool's order for per-record stages,
# knn-build --merge joins the neighbour lists.
#     make -f pipelines/sharded.mk QUERY=q.jsonl TARGET=t.jsonl POOL=pool.jsonl SHARDS=8
#     make -f pipelines/sharded.mk ... HOSTS=2/host1,2/host2,:     (2 jobs on each host, and local)
# On remote hosts the winnow programs must be on PATH (make install); parallel copies each part there
# and brings its result back (--transferfile / --return / --cleanup).
# Targets: all (default): $(OUT)/pool.vec.wnw (embed-hash), $(OUT)/knn.wnw (knn-build, what tsds.mk's
# kde-dedup reads) and $(OUT)/score.wnw (gzfit, what zipfit.mk's sample reads), links to stage files
# cached as in tsds.mk and zipfit.mk (common.mk); the README's "Scaling out" shows the chains from
# them to a selection. Parameters: those of tsds.mk and zipfit.mk up to these stages (TEXT,
# QUERY_TEXT, LABEL, DIM, CHAR, K clamped as there, LEVEL, FAST), SHARDS, HOSTS. The pool is cleaned
# as there before it is split (pool.mk: DEDUP, DECONTAM; dedup and decontam run on the whole pool).

QUERY ?= query.jsonl
TARGET ?= $(QUERY)
POOL ?= pool.jsonl
OUT ?= sharded
TEXT ?= text
QUERY_TEXT ?= $(TEXT)
SHARDS ?= 4
HOSTS ?= :
DIM ?= 256
CHAR ?= 0
K ?= 5000
LEVEL ?= 9
FAST ?=

.DEFAULT_GOAL := all
include $(dir $(lastword $(MAKEFILE_LIST)))common.mk

include $(PIPELINES)pool.mk
$(call nopath,QUERY)
ifneq ($(shell printf '%s\n' $(call q,$(SHARDS)) | grep -qx '[1-9][0-9]*' && echo ok),ok)
$(error SHARDS='$(SHARDS)': not a whole number)
endif
QUERY_PACKED := $(call stage,query,$(call q,$(call ident,$(QUERY))) $(call q,$(QUERY_TEXT)))
EMBED_ARGS = --dim $(call q,$(DIM)) --char $(call q,$(CHAR))
GZFIT_ARGS = $(if $(FAST),--fast --background background.wnw,--level $(call q,$(LEVEL)))
QUERY_VEC := $(call stage,embed,$(QUERY_PACKED) $(EMBED_ARGS))
# The parts of the pool, a directory standing for all of them (shard writes every part or none).
PARTS_DIR := $(basename $(call stage,parts,$(POOL_CLEAN) $(call q,$(SHARDS))))
PARTS := $(shell seq 0 $$(($(SHARDS) - 1)))
POOL_VEC := $(call stage,embed,$(PARTS_DIR) $(EMBED_ARGS))
KNN := $(call stage,knn,$(POOL_VEC) $(QUERY_VEC) $(call q,$(K)))
SCORED := $(call stage,score,$(PARTS_DIR) $(TARGET_PACKED) $(GZFIT_ARGS))

comma := ,
REMOTE = $(filter-out :,$(subst $(comma), ,$(HOSTS)))
PAR = parallel --halt now,fail=1 --sshlogin $(call q,$(HOSTS)) \
	$(if $(REMOTE),--transferfile {} --return {.}.$(1).wnw --cleanup $(2))
# In a part's directory, each stage's per-part files are named by its key, so two stages' parts never mix.
tag = $(notdir $(basename $(1)))

.PHONY: all clean
all: $(POOL_VEC) $(KNN) $(SCORED)
	ln -sf $(notdir $(POOL_VEC)) $(OUT)/pool.vec.wnw
	ln -sf $(notdir $(KNN)) $(OUT)/knn.wnw
	ln -sf $(notdir $(SCORED)) $(OUT)/score.wnw

$(QUERY_PACKED): $(QUERY)
	@mkdir -p $(@D)
	$(W)pack --text $(call q,$(QUERY_TEXT)) -o $@ $<
$(QUERY_VEC): $(QUERY_PACKED)
	$(W)embed-hash $(EMBED_ARGS) -o $@ $<

$(PARTS_DIR)/done: $(POOL_CLEAN)
	rm -rf $(@D) && mkdir -p $(@D)
	$(W)shard -n $(SHARDS) $(@D)/part-%d.wnw $<
	touch $@

$(POOL_VEC): $(PARTS_DIR)/done
	cd $(PARTS_DIR) && $(call PAR,$(call tag,$@)) -q \
		$(W)embed-hash $(EMBED_ARGS) -o {.}.$(call tag,$@).wnw {} ::: $(PARTS:%=part-%.wnw)
	$(W)shard --merge -o $@ $(PARTS:%=$(PARTS_DIR)/part-%.$(call tag,$@).wnw)

$(KNN): $(POOL_VEC) $(QUERY_VEC) $(PARTS_DIR)/done
	cp $(QUERY_VEC) $(PARTS_DIR)/query.$(call tag,$@).wnw
	k=$(call clamp,$(K),$(POOL_CLEAN)) && cd $(PARTS_DIR) && \
	$(call PAR,$(call tag,$@),--basefile query.$(call tag,$@).wnw) -q \
		$(W)knn-build -q query.$(call tag,$@).wnw -k "$$k" -o {.}.$(call tag,$@).wnw {} \
		::: $(PARTS:%=part-%.$(call tag,$(POOL_VEC)).wnw) && \
	cat $(PARTS:%=part-%.$(call tag,$(POOL_VEC)).$(call tag,$@).wnw) | $(W)knn-build --merge -k "$$k" -o $(abspath $@)

# gzfit --fast samples its background from the whole pool, as a single run does, not from its part.
$(SCORED): $(PARTS_DIR)/done $(TARGET_PACKED)
	cp $(TARGET_PACKED) $(PARTS_DIR)/target.$(call tag,$@).wnw
	$(if $(FAST),ln -f $(POOL_CLEAN) $(PARTS_DIR)/background.wnw 2>/dev/null || cp $(POOL_CLEAN) $(PARTS_DIR)/background.wnw)
	cd $(PARTS_DIR) && $(call PAR,$(call tag,$@),--basefile target.$(call tag,$@).wnw $(if $(FAST),--basefile background.wnw)) -q \
		$(W)gzfit -t target.$(call tag,$@).wnw $(GZFIT_ARGS) -o {.}.$(call tag,$@).wnw {} ::: $(PARTS:%=part-%.wnw)
	$(W)shard --merge -o $@ $(PARTS:%=$(PARTS_DIR)/part-%.$(call tag,$@).wnw)

clean:
	rm -rf $(OUT)
