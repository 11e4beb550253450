# SPDX-License-Identifier: Apache-2.0
# iCEBreaker v1.0 at half the target clock: the same chip, PLL, pins and array as
# icebreaker.mk, with the core at 24 MHz and the UART at 6 Mbaud. This is the
# iCEBreaker build that meets its clock today (icebreaker.mk's 48 MHz does not
# yet, docs/boards.md); the host needs `--target ftdi:baud=6000000`.
# Data only; mk/fpga.mk holds the recipes.
include boards/icebreaker.mk
# core clock: icepll -i 12 -o 24 -> DIVR 0, DIVF 63, DIVQ 5, FILTER_RANGE 1
# (VCO 768 MHz); 24 MHz / 6 Mbaud = 4 clocks per bit, as at 48 MHz / 12 Mbaud
BOARD_CLK_HZ      := 24000000
BOARD_PLL         := PLL_DIVR=0 PLL_DIVF=63 PLL_DIVQ=5 PLL_FILTER=1
BOARD_BAUD        := 6000000
BOARD_MEETS_CLOCK :=
