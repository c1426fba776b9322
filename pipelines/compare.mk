# pipelines/compare.mk: runs TSDS and ZIP-FIT on the same pool for the same target examples and
# reports how much their selections overlap (and, with LABEL, what each picked).
#     make -f pipelines/compare.mk TARGET=target.jsonl POOL=pool.jsonl [N=1000] [LABEL=domain]
# Every parameter of tsds.mk and zipfit.mk applies; N sets both the TSDS draws and the ZIP-FIT top K
# unless TOP is given. The two recipes cache their stages under $(OUT)/tsds and $(OUT)/zipfit.

TARGET ?= target.jsonl
POOL ?= pool.jsonl
OUT ?= compare
N ?= 1000
TOP ?= $(N)
W ?=
LABEL ?=
HERE := $(dir $(lastword $(MAKEFILE_LIST)))

.PHONY: all tsds zipfit clean
all: tsds zipfit
	@$(HERE)overlap $(OUT)/tsds/selected.jsonl $(OUT)/zipfit/selected.jsonl $(LABEL)

tsds:
	@$(MAKE) --no-print-directory -f $(HERE)tsds.mk QUERY=$(TARGET) POOL=$(POOL) OUT=$(OUT)/tsds N=$(N) W=$(W) LABEL=$(LABEL)
zipfit:
	@$(MAKE) --no-print-directory -f $(HERE)zipfit.mk TARGET=$(TARGET) POOL=$(POOL) OUT=$(OUT)/zipfit TOP=$(TOP) W=$(W) LABEL=$(LABEL)

clean:
	rm -rf $(OUT)
