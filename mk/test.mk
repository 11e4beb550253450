# SPDX-License-Identifier: Apache-2.0
# test.mk - `make test`, `make bench`, `make demo`.

TEST_BINS := $(BUILD)/tests/test_golden $(BUILD)/tests/test_npy \
             $(BUILD)/tests/test_rtl $(BUILD)/tests/test_net $(BUILD)/tests/bench \
             $(BUILD)/tests/test_nn $(BUILD)/tests/nn_eval $(BUILD)/tests/test_proto \
             $(BUILD)/mknpy

# Random GEMMs per array shape in `make test`, and their seed (printed).
RTL_COUNT ?= 10000
RTL_SEED  ?= 20261126

$(BUILD)/mknpy: $(BUILD)/tests/mknpy.o $(LIBQARRAY)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBQARRAY) $(LDLIBS_QA)

# one test_rtl run per built model, with backpressure on the default model
RTL_TESTS := $(foreach m,$(SIM_MODELS),rtl_$(m)="$(BUILD)/tests/test_rtl -q --model $(m) --count $(RTL_COUNT) --seed $(RTL_SEED)") \
             rtl_stall_$(firstword $(SIM_MODELS))="$(BUILD)/tests/test_rtl -q --model $(firstword $(SIM_MODELS)) --count 1000 --seed $(RTL_SEED) --stall 300"

.PHONY: test bench demo

test: all $(TEST_BINS) ## run every test (lint, golden model, .npy, RTL vs golden, resident networks, Icarus cross-check, CLI); ends with "N passed, N failed"
	@TEST_LOG_DIR=$(BUILD)/test-logs tests/run.sh \
	  lint="$(MAKE) -s --no-print-directory lint" \
	  golden="$(BUILD)/tests/test_golden" \
	  npy="$(BUILD)/tests/test_npy" \
	  $(RTL_TESTS) \
	  net="$(BUILD)/tests/test_net --count 300" \
	  net_stall="$(BUILD)/tests/test_net --model $(firstword $(SIM_MODELS)) --count 200 --stall 300" \
	  xsim="tests/test_xsim.sh $(BUILD) 2x2 4x8" \
	  cli="tests/test_cli.sh $(BUILD)" \
	  nn="$(BUILD)/tests/test_nn" \
	  nn_cli="tests/test_nn_cli.sh $(BUILD)" \
	  proto="$(BUILD)/tests/test_proto" \
	  link="tests/test_link.sh $(BUILD)"

bench: all $(BUILD)/tests/bench ## print cycles and MAC utilization of GEMM shapes and of a resident MLP (default model and 8x8)
	$(BUILD)/tests/bench
	$(BUILD)/tests/bench --model 8x8
	$(BUILD)/tests/bench --net 64,32,16,10 --rows 360
	$(BUILD)/tests/bench --net 64,32,16,10 --rows 360 --model 8x8

demo: all $(BUILD)/mknpy ## the main job: GEMMs of several shapes on the simulator, checked against the golden model
	@bash mk/demo.sh $(BUILD)
