# SPDX-License-Identifier: Apache-2.0
# sim.mk - Verilator models of qa_core, one per shape in SIM_MODELS, and the
# C API around them (sim/qa_sim.h).

VERILATOR_ROOT := $(shell $(VERILATOR) --getenv VERILATOR_ROOT 2>/dev/null)
# Verilator's runtime and trace code (compiled into every model and into the
# C++ around them) do unaligned loads and stores on purpose, so UBSan's
# alignment check is off for the simulator's C++; the host C code keeps the
# full sanitizer set.
VLT_SANFLAGS := $(if $(SANFLAGS),$(SANFLAGS) -fno-sanitize=alignment)
VLT_INC   := -I$(VERILATOR_ROOT)/include -I$(VERILATOR_ROOT)/include/vltstd
VLT_FLAGS := --cc -O3 --x-assign fast --x-initial fast --trace-fst -Wall \
             --top-module $(RTL_TOP)
SIM_CXXFLAGS_BASE := -std=c++17 -O2 -g $(VLT_INC) -Isim -DVM_TRACE=1 -DVM_TRACE_FST=1 \
                     -Wno-unused-parameter
SIM_CXXFLAGS := $(SIM_CXXFLAGS_BASE) $(VLT_SANFLAGS)

SIM_DIR  := $(BUILD)/sim
# per model: the Verilated archive and the binding object
SIM_ARCHIVES := $(foreach m,$(SIM_MODELS),$(SIM_DIR)/$(m)/Vqa_core_$(m)__ALL.a)
SIM_BINDINGS := $(foreach m,$(SIM_MODELS),$(SIM_DIR)/$(m)/binding.o)
SIM_RUNTIME  := $(SIM_DIR)/verilated.o $(SIM_DIR)/verilated_fst_c.o \
                $(SIM_DIR)/verilated_threads.o
SIM_DRIVER   := $(SIM_DIR)/qa_sim.o
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

$(SIM_DIR)/$(1)/binding.o: sim/qa_sim_variant.cpp sim/qa_sim_model.h $(SIM_DIR)/$(1)/Vqa_core_$(1)__ALL.a
	$(CXX) $(SIM_CXXFLAGS) -I$$(@D) -DQA_VPREFIX=Vqa_core_$(1) \
	  -DQA_VFACTORY=qa_sim_new_$(1) -c $$< -o $$@
endef
$(foreach m,$(SIM_MODELS),$(eval $(call SIM_MODEL_RULES,$(m))))

# The Verilator runtime is third-party code (its FST writer shifts negative
# values, for one): it is built without sanitizers, even with SAN=1.
$(SIM_RUNTIME): $(SIM_DIR)/%.o: $(VERILATOR_ROOT)/include/%.cpp $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SIM_CXXFLAGS_BASE) -c $< -o $@

$(SIM_DRIVER): sim/qa_sim.cpp sim/qa_sim.h sim/qa_sim_model.h $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(SIM_CXXFLAGS) '-DQA_SIM_MODEL_LIST=$(SIM_MODEL_LIST)' -c $< -o $@
