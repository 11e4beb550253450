// SPDX-License-Identifier: Apache-2.0
// qa_icebreaker: board shim for the iCEBreaker v1.0 (iCE40UP5K-SG48) around
// qa_chip - PLL, power-on reset, UART pins, LEDs.
//
// The 12 MHz oscillator (pin 35) feeds SB_PLL40_PAD; the core runs on its
// output, CLK_HZ = 12 MHz * (DIVF + 1) / (2^DIVQ * (DIVR + 1)). The defaults
// are `icepll -i 12 -o 48`: 48 MHz, so 12 Mbaud (FT2232H channel B) is
// exactly 4 clocks per bit. Reset: until the PLL locks, plus 1024 cycles, and
// while BTN_N is pressed. LEDs (active low on the board): green = heartbeat,
// red = busy or error. The array uses the eight SB_MAC16 blocks in dual 8x8
// mode (PE_PAIRS = 1) and the W memory the four SPRAMs (W_SPRAM = 1); build
// with rtl/prim/ice40/*.v in place of the behavioural rtl/prim/*.v.
`default_nettype none

module qa_icebreaker #(
    parameter integer ROWS        = 4,         // PE rows
    parameter integer COLS        = 4,         // PE columns (even: PE pairs)
    parameter integer ACC_W       = 32,        // accumulator bits
    parameter integer XB_DEPTH    = 1024,      // X words per bank
    parameter integer WB_DEPTH    = 16384,     // W words per bank (2 x 16384 x 4 lanes = 4 SPRAMs)
    parameter integer PG_MAX      = 64,        // bias/shift groups per bank
    parameter integer NL_MAX      = 0,         // network table layers (0: networks run layer by layer)
    parameter integer RXBUF_BYTES = 4096,      // link receive buffer in bytes
    parameter integer CLK_HZ      = 48000000,  // core clock the PLL makes, in Hz
    parameter integer BAUD        = 12000000,  // UART line rate in bit/s
    parameter integer PE_PAIRS    = 1,         // SB_MAC16 dual 8x8 PEs
    parameter integer W_SPRAM     = 1,         // W memory in SPRAM
    parameter integer FIFO_BLOCK  = 1,         // the FIFOs in block RAM
    parameter integer PLL_DIVR    = 0,         // SB_PLL40 reference divider - 1
    parameter integer PLL_DIVF    = 63,        // SB_PLL40 feedback divider - 1
    parameter integer PLL_DIVQ    = 4,         // SB_PLL40 output divider, log2
    parameter integer PLL_FILTER  = 1          // SB_PLL40 loop filter range
) (
    input  wire clk12_i,     // 12 MHz oscillator
    input  wire uart_rx_i,   // from the host (FT2232H channel B)
    output wire uart_tx_o,   // to the host
    input  wire btn_ni,      // BTN_N: reset, active low
    output wire led_red_no,  // busy or error, active low
    output wire led_grn_no   // heartbeat, active low
);

  wire clk, locked, rst;

  SB_PLL40_PAD #(
      .FEEDBACK_PATH("SIMPLE"),
      .DIVR         (PLL_DIVR[3:0]),
      .DIVF         (PLL_DIVF[6:0]),
      .DIVQ         (PLL_DIVQ[2:0]),
      .FILTER_RANGE (PLL_FILTER[2:0])
  ) u_pll (
      .PACKAGEPIN  (clk12_i),
      .PLLOUTCORE  (),
      .PLLOUTGLOBAL(clk),
      .EXTFEEDBACK (1'b0),
      .DYNAMICDELAY(8'd0),
      .LOCK        (locked),
      .BYPASS      (1'b0),
      .RESETB      (1'b1),
      .LATCHINPUTVALUE(1'b0),
      .SDO         (),
      .SDI         (1'b0),
      .SCLK        (1'b0)
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
      .PE_PAIRS   (PE_PAIRS),
      .FIFO_BLOCK (FIFO_BLOCK),
      .W_SPRAM    (W_SPRAM)
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

  assign led_grn_no = !hb;
  assign led_red_no = !(busy || err);

endmodule

`default_nettype wire
