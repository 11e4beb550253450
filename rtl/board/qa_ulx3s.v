// SPDX-License-Identifier: Apache-2.0
// qa_ulx3s: board shim for the ULX3S (LFE5U-12F/25F/45F/85F, CABGA381)
// around qa_chip - PLL, power-on reset, UART pins, LEDs.
//
// The 25 MHz oscillator (G2) feeds EHXPLLL; the core runs on CLKOP,
// CLK_HZ = 25 MHz * CLKFB_DIV / CLKI_DIV, with the VCO at that times
// CLKOP_DIV (must lie in 400..800 MHz). The defaults are what
// `ecppll -i 25 -o 75` prints: CLKI_DIV 1, CLKFB_DIV 3, CLKOP_DIV 8 (VCO
// 600 MHz), 75 MHz, so 3 Mbaud (the FT231X's maximum) is exactly 25 clocks
// per bit. Reset: until the PLL locks, plus 1024 cycles, and while PWRn is
// pressed. LEDs (active high): 0 heartbeat, 1 busy, 2 error, 7 PLL locked.
// The PEs use the generic qa_pe: Yosys maps its multiplier onto a
// MULT18X18D; PROD_REG registers the product and RD_REG the operand memories'
// read data (defaults 1: the multiplier, the accumulator's carry chain and the
// block RAM read path each get their own cycle).
`default_nettype none

module qa_ulx3s #(
    parameter integer ROWS        = 8,         // PE rows
    parameter integer COLS        = 8,         // PE columns
    parameter integer ACC_W       = 32,        // accumulator bits
    parameter integer XB_DEPTH    = 1024,      // X words per bank
    parameter integer WB_DEPTH    = 8192,      // W words per bank
    parameter integer PG_MAX      = 64,        // bias/shift groups per bank
    parameter integer NL_MAX      = 16,        // network table layers (0: networks run layer by layer)
    parameter integer RXBUF_BYTES = 4096,      // link receive buffer in bytes
    parameter integer PROD_REG    = 1,         // products registered (qa_core)
    parameter integer RD_REG      = 1,         // operand reads registered (qa_core)
    parameter integer CLK_HZ      = 75000000,  // core clock the PLL makes, in Hz
    parameter integer BAUD        = 3000000,   // UART line rate in bit/s
    parameter integer PLL_CLKI_DIV  = 1,       // EHXPLLL reference divider
    parameter integer PLL_CLKFB_DIV = 3,       // EHXPLLL feedback divider
    parameter integer PLL_CLKOP_DIV = 8        // EHXPLLL output divider (VCO / CLK_HZ)
) (
    input  wire       clk25_i,    // 25 MHz oscillator
    input  wire       uart_rx_i,  // from the host (FT231X TXD)
    output wire       uart_tx_o,  // to the host (FT231X RXD)
    input  wire       btn_ni,     // PWRn button: reset, active low
    output wire [7:0] led_o       // LEDs, active high
);

  wire clk, locked, rst;

  (* FREQUENCY_PIN_CLKI = "25" *)
  EHXPLLL #(
      .PLLRST_ENA     ("DISABLED"),
      .INTFB_WAKE     ("DISABLED"),
      .STDBY_ENABLE   ("DISABLED"),
      .DPHASE_SOURCE  ("DISABLED"),
      .OUTDIVIDER_MUXA("DIVA"),
      .OUTDIVIDER_MUXB("DIVB"),
      .OUTDIVIDER_MUXC("DIVC"),
      .OUTDIVIDER_MUXD("DIVD"),
      .CLKI_DIV       (PLL_CLKI_DIV),
      .CLKOP_ENABLE   ("ENABLED"),
      .CLKOP_DIV      (PLL_CLKOP_DIV),
      .CLKOP_CPHASE   (PLL_CLKOP_DIV / 2),
      .CLKOP_FPHASE   (0),
      .FEEDBK_PATH    ("CLKOP"),
      .CLKFB_DIV      (PLL_CLKFB_DIV)
  ) u_pll (
      .RST         (1'b0),
      .STDBY       (1'b0),
      .CLKI        (clk25_i),
      .CLKOP       (clk),
      .CLKFB       (clk),
      .CLKINTFB    (),
      .PHASESEL0   (1'b0),
      .PHASESEL1   (1'b0),
      .PHASEDIR    (1'b1),
      .PHASESTEP   (1'b1),
      .PHASELOADREG(1'b1),
      .PLLWAKESYNC (1'b0),
      .ENCLKOP     (1'b0),
      .LOCK        (locked)
  );

  qa_por #(
      .CNT_W(10)
  ) u_por (
      .clk_i   (clk),
      .locked_i(locked),
      .btn_ni  (btn_ni),
      .rst_o   (rst)
  );

  wire hb, busy, err;
  qa_chip #(
      .ROWS       (ROWS),
      .COLS       (COLS),
      .ACC_W      (ACC_W),
      .XB_DEPTH   (XB_DEPTH),
      .WB_DEPTH   (WB_DEPTH),
      .PG_MAX     (PG_MAX),
      .NL_MAX     (NL_MAX),
      .CLK_HZ     (CLK_HZ),
      .BAUD       (BAUD),
      .RXBUF_BYTES(RXBUF_BYTES),
      .PROD_REG   (PROD_REG),
      .RD_REG     (RD_REG)
  ) u_chip (
      .clk_i          (clk),
      .rst_i          (rst),
      .uart_rx_i      (uart_rx_i),
      .uart_tx_o      (uart_tx_o),
      .led_heartbeat_o(hb),
      .led_busy_o     (busy),
      .led_error_o    (err),
      .busy_o         ()
  );

  assign led_o = {locked, 4'b0000, err, busy, hb};

endmodule

`default_nettype wire
