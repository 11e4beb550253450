# SPDX-License-Identifier: Apache-2.0
# iCEBreaker v1.0: iCE40UP5K-SG48, 12 MHz oscillator, FT2232H (channel B = UART).
# Data only; mk/fpga.mk holds the recipes.
BOARD_FAMILY      := ice40
BOARD_DEVICE      := iCE40UP5K-SG48
BOARD_PNR_ARGS    := --up5k --package sg48
BOARD_TOP         := qa_icebreaker
BOARD_CONSTRAINTS := constraints/icebreaker.pcf
BOARD_OSC_MHZ     := 12
# core clock: icepll -i 12 -o 48 -> DIVR 0, DIVF 63, DIVQ 4, FILTER_RANGE 1
# (VCO 768 MHz); 48 MHz / 12 Mbaud = 4 clocks per bit
BOARD_CLK_HZ      := 48000000
BOARD_PLL         := PLL_DIVR=0 PLL_DIVF=63 PLL_DIVQ=4 PLL_FILTER=1
BOARD_BAUD        := 12000000
# 4x4 array on the 8 SB_MAC16 (dual 8x8), W in the 4 SPRAMs (2 x 16384 x 4 B),
# X (2 x 512 x 4 B), bias/shift and the link's small FIFOs in block RAM;
# no network table (NL_MAX 0: the host runs networks layer by layer)
BOARD_ROWS        := 4
BOARD_COLS        := 4
BOARD_PARAMS      := ACC_W=25 XB_DEPTH=512 WB_DEPTH=16384 PG_MAX=64 RXBUF_BYTES=2048 \
                     PE_PAIRS=1 W_SPRAM=1 FIFO_BLOCK=1 NL_MAX=0
BOARD_PROG        := -b ice40_generic
# make prog's hint when this build misses its clock: the same board at 24 MHz
BOARD_MEETS_CLOCK := icebreaker-24
