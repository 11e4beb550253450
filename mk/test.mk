# SPDX-License-Identifier: Apache-2.0
# test.mk - `make test`, `make bench`, `make demo`.

TEST_BINS := $(BUILD)/tests/test_golden $(BUILD)/tests/test_npy \
             $(BUILD)/tests/test_rtl $(BUILD)/tests/test_net $(BUILD)/tests/bench \
             $(BUILD)/tests/test_nn $(BUILD)/tests/nn_eval $(BUILD)/tests/test_proto \
             $(BUILD)/mknpy $(USB_TEST_BINS) $(REPLAY_BINS)

# Random GEMMs per array shape in `make test`, and their seed (printed).
RTL_COUNT ?= 10000
RTL_SEED  ?= 20261126
# The same random GEMMs through the chip's UART and wire protocol: fewer,
# because every byte crosses the line bit by bit (the ULX3S model runs a
# 3 Mbaud line from a 75 MHz clock: 250 cycles a byte).
UART_COUNT ?= 200
UART_COUNT_SLOW ?= 20
# Networks on each board's chip model through its UART: resident (NET_LOAD /
# NET_RUN, on-chip write-back) on the ULX3S models; streamed, a GEMM per
# layer, on the first (iCEBreaker: no layer table, and its array is built
# differently: PE pairs, broadcast operands), which gets more
NET_CHIP_COUNT ?= 300
NET_CHIP_COUNT_SLOW ?= 10
# ... and through each board's emulated FTDI bridge (qarray-emu), whose USB
# side runs at the bridge's real pace
FTDI_COUNT ?= 20

# A faulty line for the link's recovery test (docs/protocol.md, section 7).
LINK_FAULTS ?= flip=1e-3,drop=1e-4

# umockdev's preload library comes before ASan's runtime in the programs
# that load it; ASan would refuse to start without this.
EMU_ENV := ASAN_OPTIONS=verify_asan_link_order=0

$(BUILD)/mknpy: $(BUILD)/tests/mknpy.o $(LIBQARRAY)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBQARRAY) $(LDLIBS_QA)

# one test_rtl run per built model, with backpressure on the default model
RTL_TESTS := $(foreach m,$(SIM_MODELS),rtl_$(m)="$(BUILD)/tests/test_rtl -q --model $(m) --count $(RTL_COUNT) --seed $(RTL_SEED)") \
             rtl_stall_$(firstword $(SIM_MODELS))="$(BUILD)/tests/test_rtl -q --model $(firstword $(SIM_MODELS)) --count 1000 --seed $(RTL_SEED) --stall 300"

.PHONY: test bench demo

test: all $(TEST_BINS) ## run every test (lint, golden model, .npy, RTL vs golden, resident networks, Icarus cross-check, CLI, wire protocol, UART, emulated USB boards, the host again under sanitizers); ends with "N passed, N failed"
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
	  link="tests/test_link.sh $(BUILD)" \
	  uart_$(word 1,$(CHIP_NAMES))="$(BUILD)/tests/test_rtl -q --target sim-uart:$(word 1,$(CHIP_NAMES)) --count $(UART_COUNT) --seed $(RTL_SEED)" \
	  $(foreach c,$(wordlist 2,9,$(CHIP_NAMES)),uart_$(c)="$(BUILD)/tests/test_rtl -q --random-only --target sim-uart:$(c) --count $(UART_COUNT_SLOW) --seed $(RTL_SEED)") \
	  uart_faults="$(BUILD)/tests/test_rtl -q --random-only --target sim-uart --count $(UART_COUNT) --seed $(RTL_SEED) --link-faults $(LINK_FAULTS)" \
	  net_$(word 1,$(CHIP_NAMES))="$(BUILD)/tests/test_net --target sim-uart:$(word 1,$(CHIP_NAMES)) --count $(NET_CHIP_COUNT)" \
	  $(foreach c,$(wordlist 2,9,$(CHIP_NAMES)),net_$(c)="$(BUILD)/tests/test_net --target sim-uart:$(c) --count $(NET_CHIP_COUNT_SLOW)") \
	  ftdi_emu="$(EMU_ENV) $(BUILD)/tests/test_ftdi_emu" \
	  emu_runner="$(EMU_ENV) tests/test_emu_runner.sh $(QARRAY_EMU) $(BUILD)/tests/ftdi_echo" \
	  tty_pty="$(BUILD)/tests/test_tty_pty" \
	  usb="$(EMU_ENV) tests/test_usb.sh $(BUILD)" \
	  $(foreach c,$(CHIP_NAMES),ftdi_$(c)="$(EMU_ENV) $(QARRAY_EMU) --board $(c) -- $(BUILD)/tests/test_rtl -q --random-only --target ftdi:baud=$(word 4,$(CHIP_VARS_$(c))) --count $(FTDI_COUNT) --seed $(RTL_SEED)") \
	  pe2_netlist="tests/test_pe2_netlist.sh $(BUILD)" \
	  $(FUZZ_REPLAY_TESTS) \
	  formal="$(MAKE) -s --no-print-directory formal" \
	  $(if $(SANFLAGS),,san="$(MAKE) -s --no-print-directory SAN=1 test-san") \
	  $(if $(SANFLAGS)$(if $(FPGA_TEST_BOARDS),,none),,fpga="$(MAKE) -s --no-print-directory test-fpga")

# The host side again under AddressSanitizer and UndefinedBehaviorSanitizer
# (make test runs it as SAN=1 test-san; build/san/): library, CLI, link,
# transports, emulator - with the RTL models, fewer random cases.
SAN_TEST_BINS := $(BUILD)/tests/test_golden $(BUILD)/tests/test_npy $(BUILD)/tests/test_nn \
                 $(BUILD)/tests/test_proto $(BUILD)/tests/test_rtl $(BUILD)/tests/test_net \
                 $(BUILD)/tests/nn_eval $(BUILD)/mknpy $(USB_TEST_BINS) $(REPLAY_BINS)

.PHONY: test-san
test-san: all $(SAN_TEST_BINS) ## the host tests only (library, CLI, link, USB), for SAN=1 (make test runs it)
	@TEST_LOG_DIR=$(BUILD)/test-logs $(EMU_ENV) tests/run.sh \
	  golden="$(BUILD)/tests/test_golden" \
	  npy="$(BUILD)/tests/test_npy" \
	  nn="$(BUILD)/tests/test_nn" \
	  proto="$(BUILD)/tests/test_proto" \
	  rtl="$(BUILD)/tests/test_rtl -q --count 1000 --seed $(RTL_SEED)" \
	  net="$(BUILD)/tests/test_net --count 30" \
	  uart_faults="$(BUILD)/tests/test_rtl -q --random-only --target sim-uart --count 50 --seed $(RTL_SEED) --link-faults $(LINK_FAULTS)" \
	  cli="tests/test_cli.sh $(BUILD)" \
	  nn_cli="tests/test_nn_cli.sh $(BUILD)" \
	  ftdi_emu="$(BUILD)/tests/test_ftdi_emu" \
	  tty_pty="$(BUILD)/tests/test_tty_pty" \
	  usb="tests/test_usb.sh $(BUILD)" \
	  $(FUZZ_REPLAY_TESTS)

bench: all $(BUILD)/tests/bench $(BUILD)/mknpy ## print cycles and MAC utilization of GEMM shapes and of a resident MLP (default model and 8x8), and the wire protocol's cost through the chip's UART
	$(BUILD)/tests/bench
	$(BUILD)/tests/bench --model 8x8
	$(BUILD)/tests/bench --net 64,32,16,10 --rows 360
	$(BUILD)/tests/bench --net 64,32,16,10 --rows 360 --model 8x8
	tests/bench_link.sh $(BUILD)

demo: all ## the main job: a digit classifier trained, quantized to int8 and run on the simulated RTL, checked against the golden model
	@bash mk/demo.sh $(BUILD)
