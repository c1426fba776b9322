# pipelines/sharded.mk: the per-record stages (embed-hash, gzfit) and the neighbour search (knn-build)
# of a pool run in SHARDS parts with GNU parallel, on this machine or on several (HOSTS), then joined
# to exactly the result of a single run: shard --merge restores the pool's order for per-record stages,
# knn-build --merge joins the neighbour lists. The outputs then feed tsds.mk / zipfit.mk's later stages.
#     make -f pipelines/sharded.mk QUERY=q.jsonl TARGET=t.jsonl POOL=pool.jsonl SHARDS=8
#     make -f pipelines/sharded.mk ... HOSTS=2/host1,2/host2,:     (2 jobs on each host, and local)
# On remote hosts the winnow programs must be on PATH (make install); parallel copies each part there
# and brings its result back (--transferfile / --return / --cleanup).
# Targets: all (default; $(OUT)/pool.vec.wnw, $(OUT)/knn.wnw, $(OUT)/score.wnw), clean.

QUERY ?= query.jsonl
TARGET ?= $(QUERY)
POOL ?= pool.jsonl
OUT ?= sharded
TEXT ?= text
SHARDS ?= 4
HOSTS ?= :
DIM ?= 256
K ?= 100
LEVEL ?= 9

.DEFAULT_GOAL := all
include $(dir $(lastword $(MAKEFILE_LIST)))common.mk

PARTS := $(shell seq 0 $$(($(SHARDS) - 1)))
REMOTE = $(filter-out :,$(subst $(comma), ,$(HOSTS)))
comma := ,
PAR = parallel --halt now,fail=1 --sshlogin $(HOSTS) \
	$(if $(REMOTE),--transferfile {} --return {.}.$(1).wnw --cleanup $(2))
TASK = $(OUT)/parts.n$(SHARDS)

.PHONY: all clean
all: $(OUT)/pool.vec.wnw $(OUT)/knn.wnw $(OUT)/score.wnw

$(OUT)/pool.wnw: $(POOL)
	@mkdir -p $(@D)
	$(W)pack --text $(TEXT) $(PACK_LABEL) -o $@ $<
$(OUT)/query.vec.wnw: $(QUERY)
	@mkdir -p $(@D)
	$(W)pack --text $(TEXT) $< | $(W)embed-hash --dim $(DIM) -o $@
$(OUT)/target.wnw: $(TARGET)
	@mkdir -p $(@D)
	$(W)pack --text $(TEXT) -o $@ $<

# shard writes every part or none; the stamp stands for all of them
$(TASK).stamp: $(OUT)/pool.wnw
	mkdir -p $(TASK)
	$(W)shard -n $(SHARDS) $(TASK)/part-%d.wnw $<
	touch $@

$(OUT)/pool.vec.wnw: $(TASK).stamp
	cd $(TASK) && $(call PAR,vec) '$(W)embed-hash --dim $(DIM) -o {.}.vec.wnw {}' ::: $(PARTS:%=part-%.wnw)
	$(W)shard --merge -o $@ $(PARTS:%=$(TASK)/part-%.vec.wnw)

$(OUT)/knn.wnw: $(OUT)/pool.vec.wnw $(OUT)/query.vec.wnw
	cp $(OUT)/query.vec.wnw $(TASK)/query.vec.wnw
	cd $(TASK) && $(call PAR,knn,--basefile query.vec.wnw) \
		'$(W)knn-build -q query.vec.wnw -k $(K) -o {.}.knn.wnw {.}.vec.wnw' ::: $(PARTS:%=part-%.wnw)
	cat $(PARTS:%=$(TASK)/part-%.knn.wnw) | $(W)knn-build --merge -k $(K) -o $@

$(OUT)/score.wnw: $(TASK).stamp $(OUT)/target.wnw
	cp $(OUT)/target.wnw $(TASK)/target.wnw
	cd $(TASK) && $(call PAR,score,--basefile target.wnw) \
		'$(W)gzfit -t target.wnw --level $(LEVEL) -o {.}.score.wnw {}' ::: $(PARTS:%=part-%.wnw)
	$(W)shard --merge -o $@ $(PARTS:%=$(TASK)/part-%.score.wnw)

clean:
	rm -rf $(OUT)
