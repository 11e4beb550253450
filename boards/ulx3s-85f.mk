# SPDX-License-Identifier: Apache-2.0
# ULX3S with LFE5U-85F-6BG381C, 25 MHz oscillator, FT231X UART (3 Mbaud max).
# Data only; mk/fpga.mk holds the recipes.
BOARD_FAMILY      := ecp5
BOARD_DEVICE      := LFE5U-85F-6BG381C
BOARD_PNR_ARGS    := --85k --package CABGA381 --speed 6
BOARD_TOP         := qa_ulx3s
BOARD_CONSTRAINTS := constraints/ulx3s_v20.lpf
BOARD_OSC_MHZ     := 25
# core clock: ecppll -i 25 -o 75 -> CLKI_DIV 1, CLKFB_DIV 3, CLKOP_DIV 8
# (VCO 600 MHz); 75 MHz / 3 Mbaud = 25 clocks per bit
BOARD_CLK_HZ      := 75000000
BOARD_PLL         := PLL_CLKI_DIV=1 PLL_CLKFB_DIV=3 PLL_CLKOP_DIV=8
BOARD_BAUD        := 3000000
# 12x12 array (144 MULT18X18D of 156)
BOARD_ROWS        := 12
BOARD_COLS        := 12
BOARD_PARAMS      := ACC_W=26 XB_DEPTH=1024 WB_DEPTH=8192 PG_MAX=64 RXBUF_BYTES=4096 \
                     PROD_REG=1 RD_REG=1
BOARD_PROG        := -b ulx3s
