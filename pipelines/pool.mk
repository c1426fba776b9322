# pipelines/pool.mk: the pool's stages before any selection method, shared by tsds.mk, zipfit.mk,
# dsir.mk and sharded.mk: pack, then dedup and decontam, so that no selection holds a removed record.
# Included after common.mk; defines POOL_PACKED (pack's stream) and POOL_CLEAN (what a method reads),
# and for the recipes that read target examples (TARGET) their stream TARGET_PACKED.
#   DEDUP=exact (default), minhash or none: dedup --exact (equal texts after case folding and white
#     space) or --minhash (near copies, estimated Jaccard 0.8 over word 5-grams), dedup(1);
#   DECONTAM=FILE: drop every record sharing a word DECONTAM_NGRAM-gram (default 13) with a text of
#     FILE (JSONL, .json, CSV, a stream: whatever pack reads; member DECONTAM_TEXT, default TEXT),
#     decontam(1); FILE counts in the stage key by its identity, as POOL does;
#   SIZE_FIELD=M: also pack the number member M of every pool line (a token count, say) as field size,
#     which a BUDGET then counts instead of the text's bytes (common.mk).

DEDUP ?= exact
DECONTAM ?=
DECONTAM_TEXT ?= $(TEXT)
DECONTAM_NGRAM ?= 13

ifneq ($(filter-out none exact minhash,$(DEDUP))$(words $(DEDUP)),1)
$(error DEDUP='$(DEDUP)': none, exact or minhash)
endif

$(call nopath,POOL)
PACK_SIZE = $(if $(SIZE_FIELD),--field $(call q,size=$(SIZE_FIELD):f64))
POOL_PACKED := $(call stage,pool,$(call q,$(call ident,$(POOL))) $(call q,$(TEXT)) $(call q,$(LABEL)) \
	$(call q,$(SIZE_FIELD)))
POOL_DEDUP := $(if $(filter none,$(DEDUP)),$(POOL_PACKED),$(call stage,dedup,$(POOL_PACKED) $(DEDUP)))
ifneq ($(DECONTAM),)
$(call nopath,DECONTAM)
DECONTAM_REF := $(call stage,reference,$(call q,$(call ident,$(DECONTAM))) $(call q,$(DECONTAM_TEXT)))
POOL_CLEAN := $(call stage,decontam,$(POOL_DEDUP) $(DECONTAM_REF) $(call q,$(DECONTAM_NGRAM)))
else
POOL_CLEAN := $(POOL_DEDUP)
endif

# The cleaning stages keep their -v report beside their stream (shown again by the recipe's all).
report = 2>$(@:.wnw=.log) || { e=$$?; cat $(@:.wnw=.log) >&2; exit $$e; }
CLEAN_LOGS := $(if $(filter-out none,$(DEDUP)),$(POOL_DEDUP:.wnw=.log)) $(if $(DECONTAM),$(POOL_CLEAN:.wnw=.log))
# For a recipe's all: the cleaned pool linked as $(OUT)/pool.wnw, and what the cleaning removed.
cleaned = ln -sf $(notdir $(POOL_CLEAN)) $(OUT)/pool.wnw$(if $(strip $(CLEAN_LOGS)), && { cat $(CLEAN_LOGS) 2>/dev/null | grep -h 'dropped' || true; })

$(POOL_PACKED): $(POOL)
	@mkdir -p $(@D)
	$(W)pack --text $(call q,$(TEXT)) $(PACK_LABEL) $(PACK_SIZE) -o $@ $<
ifneq ($(DEDUP),none)
$(POOL_DEDUP): $(POOL_PACKED)
	$(W)dedup --$(DEDUP) -v -j $(call q,$(JOBS)) -o $@ $< $(report)
endif
ifneq ($(DECONTAM),)
$(DECONTAM_REF): $(DECONTAM)
	@mkdir -p $(@D)
	$(W)pack --text $(call q,$(DECONTAM_TEXT)) -o $@ $<
$(POOL_CLEAN): $(POOL_DEDUP) $(DECONTAM_REF)
	$(W)decontam -r $(DECONTAM_REF) --ngram $(call q,$(DECONTAM_NGRAM)) -v -j $(call q,$(JOBS)) -o $@ $< $(report)
endif

ifneq ($(TARGET),)
$(call nopath,TARGET)
TARGET_PACKED := $(call stage,target,$(call q,$(call ident,$(TARGET))) $(call q,$(QUERY_TEXT)))
$(TARGET_PACKED): $(TARGET)
	@mkdir -p $(@D)
	$(W)pack --text $(call q,$(QUERY_TEXT)) -o $@ $<
endif
