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

# Chip models: NAME:ROWSxCOLS:CLK_HZ:BAUD, the board configurations of
# docs/boards.md (array, core clock, UART rate); the first is the default of
# --target sim-uart. Other qa_chip parameters keep their defaults.
CHIP_MODELS ?= icebreaker:4x4:48000000:12000000 ulx3s:8x8:75000000:3000000
chip_field = $(word $(2),$(subst :, ,$(1)))
CHIP_NAMES := $(foreach c,$(CHIP_MODELS),$(call chip_field,$(c),1))
CHIP_ARCHIVES := $(foreach n,$(CHIP_NAMES),$(SIM_DIR)/chip-$(n)/Vqa_chip_$(n)__ALL.a)
CHIP_BINDINGS := $(foreach n,$(CHIP_NAMES),$(SIM_DIR)/chip-$(n)/binding.o)
CHIP_MODEL_LIST := $(foreach c,$(CHIP_MODELS),QA_C($(call chip_field,$(c),1),$(call rows_of,$(call chip_field,$(c),2)),$(call cols_of,$(call chip_field,$(c),2)),$(call chip_field,$(c),3),$(call chip_field,$(c),4)))

define CHIP_MODEL_RULES
$(SIM_DIR)/chip-$(1)/Vqa_chip_$(1)__ALL.a: $(CHIP_SRCS) $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$(VERILATOR) $(VLT_BASE) --top-module qa_chip \
	  --prefix Vqa_chip_$(1) -Mdir $$(@D) \
	  -GROWS=$(call rows_of,$(2)) -GCOLS=$(call cols_of,$(2)) -GCLK_HZ=$(3) -GBAUD=$(4) \
	  $(CHIP_SRCS)
	+$(MAKE) -s -C $$(@D) -f Vqa_chip_$(1).mk Vqa_chip_$(1)__ALL.a \
	  CXX="$(CXX)" OPT_FAST="-O2" OPT_SLOW="-O1" OPT_GLOBAL="-O1" \
	  USER_CPPFLAGS="$(VLT_SANFLAGS)"

$(SIM_DIR)/chip-$(1)/binding.o: sim/qa_chip_variant.cpp sim/qa_chip_model.h sim/qa_vtrace.h $(SIM_DIR)/chip-$(1)/Vqa_chip_$(1)__ALL.a
	$(CXX) $(SIM_CXXFLAGS) -I$$(@D) -DQA_VPREFIX=Vqa_chip_$(1) \
	  -DQA_VFACTORY=qa_chip_new_$(1) -c $$< -o $$@
endef
$(foreach c,$(CHIP_MODELS),$(eval $(call CHIP_MODEL_RULES,$(call chip_field,$(c),1),$(call chip_field,$(c),2),$(call chip_field,$(c),3),$(call chip_field,$(c),4))))

$(SIM_DIR)/qa_chip_sim.o: sim/qa_chip_sim.cpp sim/qa_chip_sim.h sim/qa_chip_model.h $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SIM_CXXFLAGS) '-DQA_CHIP_MODEL_LIST=$(CHIP_MODEL_LIST)' -c $< -o $@
