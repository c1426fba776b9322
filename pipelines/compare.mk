# pipelines/compare.mk: runs TSDS, ZIP-FIT and DSIR on the same pool for the same target examples and
# reports how much their selections overlap, pair by pair (and, with LABEL, what each picked), on any
# JSONL: the records are matched by the number pack gives each pool line, not by a member of their own.
#     make -f pipelines/compare.mk TARGET=target.jsonl POOL=pool.jsonl [N=1000] [LABEL=domain]
# Every parameter of tsds.mk, zipfit.mk and dsir.mk applies (given on the command line, make passes it
# on), DEDUP, DECONTAM and BUDGET to all three; N sets the TSDS draws, the DSIR draws and the ZIP-FIT
# top K unless TOP is given. The recipes cache their stages under $(OUT)/tsds, $(OUT)/zipfit and
# $(OUT)/dsir.

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

METHODS := tsds zipfit dsir
.PHONY: all $(METHODS) clean
all: $(METHODS)
	@W=$(call q,$(W)) $(HERE)overlap $(if $(LABEL),-l $(call q,$(LABEL))) $(METHODS:%=$(OUT)/%/selected.wnw)

tsds:
	@$(MAKE) --no-print-directory -f $(HERE)tsds.mk QUERY=$(call mq,$(TARGET)) POOL=$(call mq,$(POOL)) \
		OUT=$(call mq,$(OUT)/tsds) N=$(call mq,$(N))
zipfit:
	@$(MAKE) --no-print-directory -f $(HERE)zipfit.mk TARGET=$(call mq,$(TARGET)) POOL=$(call mq,$(POOL)) \
		OUT=$(call mq,$(OUT)/zipfit) TOP=$(call mq,$(TOP))
dsir:
	@$(MAKE) --no-print-directory -f $(HERE)dsir.mk TARGET=$(call mq,$(TARGET)) POOL=$(call mq,$(POOL)) \
		OUT=$(call mq,$(OUT)/dsir) N=$(call mq,$(N))

clean:
	rm -rf $(OUT)
