# pipelines/common.mk: what the recipes share: where the programs are, YAML parameters, packing JSONL
# with an optional label field, and plots. Included by tsds.mk and zipfit.mk; not a recipe of its own.

PIPELINES := $(dir $(lastword $(MAKEFILE_LIST)))

# Programs: from PATH, or from the directory W (with a trailing slash), e.g. W=build/rel/bin/
W ?=
# Threads for the stages that use them
JOBS ?= 2
# A JSON member to carry as a label (e.g. domain), for the composition of the selection; empty for none
LABEL ?=
# Parameters may come from a YAML file: CONFIG=params.yaml (keys: the variables, in any case)
ifneq ($(CONFIG),)
-include $(OUT)/config.mk
$(OUT)/config.mk: $(CONFIG)
	@mkdir -p $(@D)
	$(W)yaml2mk $< > $@.tmp && mv $@.tmp $@
endif

PACK_LABEL = $(if $(LABEL),--field $(LABEL):text)
SHELL = /bin/bash
.SHELLFLAGS = -o pipefail -ec
.DELETE_ON_ERROR:

# $(call plot,SCORED.wnw,FIELD,SELECTED.wnw,OUT-PREFIX,POOL.wnw): PNG plots of FIELD with the
# selection marked, and of the selection's composition by LABEL beside the pool's.
plot = W=$(W) $(PIPELINES)plot-selection $(1) $(2) $(3) $(4) $(LABEL) $(5)
