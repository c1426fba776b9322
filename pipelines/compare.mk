# pipelines/compare.mk: runs TSDS and ZIP-FIT on the same pool for the same target examples and
# reports how much their selections overlap (and, with LABEL, what each picked), on any JSONL: the
# records are matched by the number pack gives each pool line, not by a member of their own.
#     make -f pipelines/compare.mk TARGET=target.jsonl POOL=pool.jsonl [N=1000] [LABEL=domain]
# Every parameter of tsds.mk and zipfit.mk applies (given on the command line, make passes it on);
# N sets both the TSDS draws and the ZIP-FIT top K unless TOP is given. The two recipes cache their
# stages under $(OUT)/tsds and $(OUT)/zipfit.

TARGET ?= target.jsonl
POOL ?= pool.jsonl
OUT ?= compare
N ?= 1000
TOP ?= $(N)
W ?=
LABEL ?=
HERE := $(dir $(lastword $(MAKEFILE_LIST)))
.DEFAULT_GOAL := all
include $(HERE)common.mk

.PHONY: all tsds zipfit clean
all: tsds zipfit
	@W=$(call q,$(W)) $(HERE)overlap $(OUT)/tsds/selected.wnw $(OUT)/zipfit/selected.wnw $(call q,$(LABEL))

tsds:
	@$(MAKE) --no-print-directory -f $(HERE)tsds.mk QUERY=$(call mq,$(TARGET)) POOL=$(call mq,$(POOL)) \
		OUT=$(call mq,$(OUT)/tsds) N=$(call mq,$(N))
zipfit:
	@$(MAKE) --no-print-directory -f $(HERE)zipfit.mk TARGET=$(call mq,$(TARGET)) POOL=$(call mq,$(POOL)) \
		OUT=$(call mq,$(OUT)/zipfit) TOP=$(call mq,$(TOP))

clean:
	rm -rf $(OUT)
