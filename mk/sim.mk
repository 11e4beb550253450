# SPDX-License-Identifier: Apache-2.0
# sim.mk - Verilator models of qa_core, one per shape in SIM_MODELS, and the
# C API around them (sim/qa_sim.h); Verilator models of the whole chip
# (qa_chip: UART, protocol, core), one per board configuration in
# CHIP_MODELS, and their C API (sim/qa_chip_sim.h).

VERILATOR_ROOT := $(shell $(VERILATOR) --getenv VERILATOR_ROOT 2>/dev/null)
# Verilator's runtime and trace code (compiled into every model and into the
# C++ around them) do unaligned loads and stores on purpose, so UBSan's
# alignment check is off for the simulator's C++; the host C code keeps the
# full sanitizer set.
VLT_SANFLAGS := $(if $(SANFLAGS),$(SANFLAGS) -fno-sanitize=alignment)
VLT_INC   := -I$(VERILATOR_ROOT)/include -I$(VERILATOR_ROOT)/include/vltstd
VLT_BASE  := --cc -O3 --x-assign fast --x-initial fast --trace-fst -Wall
VLT_FLAGS := $(VLT_BASE) --top-module $(RTL_TOP)
SIM_CXXFLAGS_BASE := -std=c++17 -O2 -g $(VLT_INC) -Isim -DVM_TRACE=1 -DVM_TRACE_FST=1 \
                     -Wno-unused-parameter
SIM_CXXFLAGS := $(SIM_CXXFLAGS_BASE) $(VLT_SANFLAGS)

SIM_DIR  := $(BUILD)/sim
# per model: the Verilated archive and the binding object
SIM_ARCHIVES := $(foreach m,$(SIM_MODELS),$(SIM_DIR)/$(m)/Vqa_core_$(m)__ALL.a)
SIM_BINDINGS := $(foreach m,$(SIM_MODELS),$(SIM_DIR)/$(m)/binding.o)
SIM_RUNTIME  := $(SIM_DIR)/verilated.o $(SIM_DIR)/verilated_fst_c.o \
                $(SIM_DIR)/verilated_threads.o
SIM_DRIVER   := $(SIM_DIR)/qa_sim.o $(SIM_DIR)/qa_chip_sim.o
SIM_MODEL_LIST := $(foreach m,$(SIM_MODELS),QA_M($(call rows_of,$(m)),$(call cols_of,$(m))))

# Verilate and compile one model, and bind it to the qa_sim_model interface.
define SIM_MODEL_RULES
$(SIM_DIR)/$(1)/Vqa_core_$(1)__ALL.a: $(RTL_SRCS) $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$(VERILATOR) $(VLT_FLAGS) --prefix Vqa_core_$(1) -Mdir $$(@D) \
	  -GROWS=$(call rows_of,$(1)) -GCOLS=$(call cols_of,$(1)) $(RTL_SRCS)
	+$(MAKE) -s -C $$(@D) -f Vqa_core_$(1).mk Vqa_core_$(1)__ALL.a \
	  CXX="$(CXX)" OPT_FAST="-O2" OPT_SLOW="-O1" OPT_GLOBAL="-O1" \
	  USER_CPPFLAGS="$(VLT_SANFLAGS)"

$(SIM_DIR)/$(1)/binding.o: sim/qa_sim_variant.cpp sim/qa_sim_model.h sim/qa_vtrace.h $(SIM_DIR)/$(1)/Vqa_core_$(1)__ALL.a
	$(CXX) $(SIM_CXXFLAGS) -I$$(@D) -DQA_VPREFIX=Vqa_core_$(1) \
	  -DQA_VFACTORY=qa_sim_new_$(1) -c $$< -o $$@
endef
$(foreach m,$(SIM_MODELS),$(eval $(call SIM_MODEL_RULES,$(m))))

# The Verilator runtime is third-party code (its FST writer shifts negative
# values, for one): it is built without sanitizers, even with SAN=1.
$(SIM_RUNTIME): $(SIM_DIR)/%.o: $(VERILATOR_ROOT)/include/%.cpp $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SIM_CXXFLAGS_BASE) -c $< -o $@

$(SIM_DIR)/qa_sim.o: sim/qa_sim.cpp sim/qa_sim.h sim/qa_sim_model.h $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SIM_CXXFLAGS) '-DQA_SIM_MODEL_LIST=$(SIM_MODEL_LIST)' -c $< -o $@

# Chip models: NAME:BOARD, the qa_chip of boards/BOARD.mk with every chip
# parameter the board sets (array, core clock, UART rate, memory depths,
# mapping onto the vendor primitives, simulated by their behavioural twins);
# the first is the default of --target sim-uart. The ULX3S-12F has the
# 25F's parameters, so one model covers both. icebreaker-24 is the iCEBreaker
# build at 24 MHz / 6 Mbaud (boards/icebreaker-24.mk).
CHIP_MODELS ?= icebreaker:icebreaker icebreaker-24:icebreaker-24 ulx3s:ulx3s-85f ulx3s-45f:ulx3s-45f ulx3s-25f:ulx3s-25f
chip_field = $(word $(2),$(subst :, ,$(1)))
CHIP_NAMES := $(foreach c,$(CHIP_MODELS),$(call chip_field,$(c),1))
# a model's C and Verilator identifier: its name with '-' as '_'
chip_id = $(subst -,_,$(1))
# a board file's chip parameters, read by make itself: ROWS COLS CLK_HZ BAUD P=V...
board_chip_vars = $(shell printf 'include boards/$(1).mk\nall:\n\t@echo $$(BOARD_ROWS) $$(BOARD_COLS) $$(BOARD_CLK_HZ) $$(BOARD_BAUD) $$(BOARD_PARAMS)\n' | MAKEFLAGS= make -s --no-print-directory -f -)
$(foreach c,$(CHIP_MODELS),$(eval CHIP_VARS_$(call chip_field,$(c),1) := $(call board_chip_vars,$(call chip_field,$(c),2))))
$(foreach n,$(CHIP_NAMES),$(if $(word 4,$(CHIP_VARS_$(n))),,$(error chip model $(n): cannot read its board file (CHIP_MODELS = NAME:BOARD, boards/BOARD.mk))))
chip_gparams = -GROWS=$(word 1,$(CHIP_VARS_$(1))) -GCOLS=$(word 2,$(CHIP_VARS_$(1))) \
  -GCLK_HZ=$(word 3,$(CHIP_VARS_$(1))) -GBAUD=$(word 4,$(CHIP_VARS_$(1))) \
  $(addprefix -G,$(wordlist 5,99,$(CHIP_VARS_$(1))))
CHIP_ARCHIVES := $(foreach n,$(CHIP_NAMES),$(SIM_DIR)/chip-$(n)/Vqa_chip_$(call chip_id,$(n))__ALL.a)
CHIP_BINDINGS := $(foreach n,$(CHIP_NAMES),$(SIM_DIR)/chip-$(n)/binding.o)
CHIP_MODEL_LIST := $(foreach n,$(CHIP_NAMES),QA_C($(call chip_id,$(n)),"$(n)",$(word 1,$(CHIP_VARS_$(n))),$(word 2,$(CHIP_VARS_$(n))),$(word 3,$(CHIP_VARS_$(n))),$(word 4,$(CHIP_VARS_$(n)))))

define CHIP_MODEL_RULES
$(SIM_DIR)/chip-$(1)/Vqa_chip_$(2)__ALL.a: $(CHIP_SRCS) $(wildcard boards/*.mk) $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$(VERILATOR) $(VLT_BASE) --top-module qa_chip \
	  --prefix Vqa_chip_$(2) -Mdir $$(@D) $(call chip_gparams,$(1)) \
	  $(CHIP_SRCS)
	+$(MAKE) -s -C $$(@D) -f Vqa_chip_$(2).mk Vqa_chip_$(2)__ALL.a \
	  CXX="$(CXX)" OPT_FAST="-O2" OPT_SLOW="-O1" OPT_GLOBAL="-O1" \
	  USER_CPPFLAGS="$(VLT_SANFLAGS)"

$(SIM_DIR)/chip-$(1)/binding.o: sim/qa_chip_variant.cpp sim/qa_chip_model.h sim/qa_vtrace.h $(SIM_DIR)/chip-$(1)/Vqa_chip_$(2)__ALL.a
	$(CXX) $(SIM_CXXFLAGS) -I$$(@D) -DQA_VPREFIX=Vqa_chip_$(2) \
	  -DQA_VFACTORY=qa_chip_new_$(2) -c $$< -o $$@
endef
$(foreach c,$(CHIP_MODELS),$(eval $(call CHIP_MODEL_RULES,$(call chip_field,$(c),1),$(call chip_id,$(call chip_field,$(c),1)),$(call chip_field,$(c),2))))

# (the model list holds each board's array, clock and baud: rebuilt when a board file changes)
$(SIM_DIR)/qa_chip_sim.o: sim/qa_chip_sim.cpp sim/qa_chip_sim.h sim/qa_chip_model.h $(wildcard boards/*.mk) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SIM_CXXFLAGS) '-DQA_CHIP_MODEL_LIST=$(CHIP_MODEL_LIST)' -c $< -o $@
