# SPDX-License-Identifier: Apache-2.0
# qarray - top-level Makefile. `make help` lists the targets.
#
# The pieces live in mk/: rtl.mk (sources, lint), sim.mk (Verilator models),
# host.mk (libqarray, the qarray CLI, test programs), usb.mk (the emulated
# board, qarray-emu), fuzz.mk (libFuzzer harnesses and the replay of their
# corpus), formal.mk (SymbiYosys proofs), test.mk (tests, bench, demo), fpga.mk (bitstreams, reports and
# programming for the boards of boards/). Tool names and options are variables, so `make VERILATOR=...` works.

BUILD      ?= build
CC         ?= cc
CXX        ?= c++
AR         ?= ar
VERILATOR  ?= verilator
IVERILOG   ?= iverilog
PYTHON     ?= python3

# Array shapes built into the simulator library, "RxC"; the first is the
# default model of `--target sim`.
SIM_MODELS ?= 4x4 2x2 8x8 4x8

# Host C flags (warnings are errors, as in CI). SAN=1 adds ASan + UBSan.
CSTD       := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
OPT        ?= -O2 -g
SAN        ?= 0
ifeq ($(SAN),1)
SANFLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
override BUILD := $(BUILD)/san
else
SANFLAGS   :=
endif

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

include mk/rtl.mk
include mk/sim.mk
include mk/host.mk
include mk/usb.mk
include mk/fuzz.mk
include mk/formal.mk
include mk/test.mk
include mk/fpga.mk

.PHONY: all deps help clean

# The build needs the toolchain; a stamp keeps `make deps` to one check per
# build tree (run `make deps` to check again).
DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): mk/deps.sh mk/deps-lib.sh
	@mkdir -p $(@D)
	bash mk/deps.sh
	@touch $@

deps:
	bash mk/deps.sh
	@mkdir -p $(BUILD) && touch $(DEPS_STAMP)

all: $(QARRAY) $(QARRAY_EMU) $(LIBQARRAY) ## build libqarray, the qarray CLI, qarray-emu and the Verilator models

help: ## list the targets
	@echo "qarray make targets:"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-zA-Z_-]+):.*## (.*)/  \1\t\2/' | expand -t 16
	@echo "variables: SIM_MODELS='$(SIM_MODELS)' SAN=1 (sanitizers) BUILD=$(BUILD)"

clean: ## remove build/
	rm -rf build
