# SPDX-License-Identifier: Apache-2.0
# rtl.mk - RTL sources and lint over the tested parameter matrix.

RTL_SRCS := rtl/qa_pe.v rtl/qa_array.v rtl/qa_requant.v rtl/qa_ram.v \
            rtl/qa_fifo.v rtl/qa_core.v rtl/prim/qa_mul_reg.v
RTL_TOP  := qa_core
# the chip: UART and wire protocol in front of the core (docs/protocol.md);
# tests/test_link.sh lints these over its own parameter matrix
# (with the PE-pair array and the single-port W memory, and the behavioural
# twins of their iCE40 primitives, which the boards' parameters may select)
CHIP_SRCS := $(RTL_SRCS) rtl/qa_uart_rx.v rtl/qa_uart_tx.v rtl/qa_crc32.v \
             rtl/qa_cobs_dec.v rtl/qa_cobs_enc.v rtl/qa_link.v rtl/qa_chip.v \
             rtl/qa_pe2.v rtl/qa_wram_sp.v rtl/prim/qa_mul8x2.v rtl/prim/qa_spram.v

# Every configuration the tests use, plus the corners (1x1, tall, wide).
LINT_MODELS := $(sort $(SIM_MODELS) 2x2 4x4 8x8 4x8 1x1 8x2 2x8)

rows_of = $(word 1,$(subst x, ,$(1)))
cols_of = $(word 2,$(subst x, ,$(1)))

.PHONY: lint lint-verilator lint-iverilog

lint: lint-verilator lint-iverilog ## lint the RTL (verilator -Wall and iverilog -g2005, every tested shape)

lint-verilator: $(DEPS_STAMP)
	@set -e; for m in $(LINT_MODELS); do \
	  r=$${m%x*}; c=$${m#*x}; \
	  echo "verilator --lint-only -Wall $(RTL_TOP) ROWS=$$r COLS=$$c"; \
	  $(VERILATOR) --lint-only -Wall $(RTL_SRCS) --top-module $(RTL_TOP) -GROWS=$$r -GCOLS=$$c; \
	done

lint-iverilog: $(DEPS_STAMP)
	@mkdir -p $(BUILD)/iverilog
	@set -e; for m in $(LINT_MODELS); do \
	  r=$${m%x*}; c=$${m#*x}; \
	  echo "iverilog -g2005 $(RTL_TOP) ROWS=$$r COLS=$$c"; \
	  $(IVERILOG) -g2005 -Wall -o $(BUILD)/iverilog/qa_core_$$m.vvp -s $(RTL_TOP) \
	    -P$(RTL_TOP).ROWS=$$r -P$(RTL_TOP).COLS=$$c $(RTL_SRCS) 2>&1 | \
	    { ! grep -E 'warning|error' ; }; \
	done
