// SPDX-License-Identifier: Apache-2.0
// qa_chip: the board-independent qarray chip - UART, wire protocol (qa_link)
// and the accelerator core (qa_core) on one clock.
//
// Pins: a UART (uart_rx_i from the host, uart_tx_o to the host, 8N1 at BAUD,
// docs/protocol.md for the frames) and three status LEDs, active high:
//   led_heartbeat_o  toggles every half second: the clock runs
//   led_busy_o       a RUN executes or a frame moves, held 2-3 ticks after
//                    (31-94 ms) to be seen
//   led_error_o      the core's status word is non-zero (until CLEAR), or for
//                    11-12 ticks (172-375 ms) after a frame was answered with
//                    an error or the UART saw a bad stop bit or lost a byte
// (a tick: every 2^k clocks of the heartbeat's counter, k = clog2(CLK_HZ/64),
// so 1/64 to 1/32 s)
// busy_o is high while anything is in flight - a byte on either UART line,
// a frame, a command, a RUN, a response - so a simulation may stop the clock
// while it is low and both lines idle (a board leaves it unconnected).
// clk_i must run at CLK_HZ; rst_i is synchronous and active high. A board
// shim adds the PLL, the power-on reset, pin polarity and IO primitives.
//
// The core's parameters (ROWS, COLS, ACC_W, depths) go to qa_core and, for
// the load sizes and result counts, to qa_link; the core tells the link its
// verdict on each RUN and NET_RUN (verdict_*_o -> s_vd_*_i). Elaboration
// fails for a BAUD the UART cannot make from CLK_HZ (fewer than 4 clocks per
// bit, or more than 2% off) and for a TIMEOUT_CYCLES shorter than two bytes
// on the line.
`default_nettype none

module qa_chip #(
    parameter integer ROWS           = 4,              // PE rows
    parameter integer COLS           = 4,              // PE columns
    parameter integer ACC_W          = 32,             // accumulator bits
    parameter integer XB_DEPTH       = 1024,           // X words per bank
    parameter integer WB_DEPTH       = 16384,          // W words per bank
    parameter integer PG_MAX         = 64,             // bias/shift groups per bank
    parameter integer NL_MAX         = 16,             // network table layers (0 = none)
    parameter integer CLK_HZ         = 48000000,       // clk_i frequency in Hz
    parameter integer BAUD           = 12000000,       // UART line rate in bit/s
    parameter integer MAX_PAYLOAD    = 1024,           // largest frame payload in bytes
    parameter integer RXBUF_BYTES    = 4096,           // receive buffer in bytes
    parameter integer RXQ_DEPTH      = 8,              // frame queue (host window = this - 1)
    parameter integer TIMEOUT_CYCLES = CLK_HZ / 100,   // partial-frame timeout in clocks
    parameter integer PE_PAIRS       = 0,              // qa_core technology mapping (see there)
    parameter integer W_SPRAM        = 0,              // qa_core technology mapping (see there)
    parameter integer PROD_REG       = 0,              // qa_core technology mapping (see there)
    parameter integer RD_REG         = 0,              // qa_core technology mapping (see there)
    parameter integer FIFO_BLOCK     = 0               // qa_link and qa_core technology mapping
) (
    input  wire clk_i,
    input  wire rst_i,
    input  wire uart_rx_i,
    output wire uart_tx_o,
    output reg  led_heartbeat_o,
    output wire led_busy_o,
    output wire led_error_o,
    output wire busy_o        // something in flight (unstretched; for simulators)
);

  function integer clog2;
    input integer value;
    integer v;
    begin
      v = value - 1;
      clog2 = 0;
      while (v > 0) begin
        clog2 = clog2 + 1;
        v = v >> 1;
      end
    end
  endfunction

  localparam integer BYTE_CLKS = 10 * ((CLK_HZ + BAUD / 2) / BAUD);
  // the LEDs: the heartbeat counts the clocks of half a second, and its low
  // TICK_W bits tick the busy and error LEDs
  localparam integer HALF_CLKS = (CLK_HZ / 2 > 4) ? CLK_HZ / 2 : 4;
  localparam integer HALF_W = clog2(HALF_CLKS);
  localparam integer TICK_W = (clog2(CLK_HZ / 64) > 1) ? clog2(CLK_HZ / 64) : 1;

  generate
    if (TIMEOUT_CYCLES < 2 * BYTE_CLKS) begin : g_bad_timeout
      qa_error_chip_timeout_shorter_than_two_bytes u_error ();
    end
  endgenerate

  // ---- UART ------------------------------------------------------------------
  wire [7:0] rx_data;
  wire rx_err, rx_valid, rx_ready, rx_overrun, rx_busy;
  wire [7:0] tx_data;
  wire tx_valid, tx_ready, tx_busy;

  qa_uart_rx #(
      .CLK_HZ(CLK_HZ),
      .BAUD  (BAUD)
  ) u_uart_rx (
      .clk_i    (clk_i),
      .rst_i    (rst_i),
      .rx_i     (uart_rx_i),
      .m_data_o (rx_data),
      .m_err_o  (rx_err),
      .m_valid_o(rx_valid),
      .m_ready_i(rx_ready),
      .overrun_o(rx_overrun),
      .busy_o   (rx_busy)
  );

  qa_uart_tx #(
      .CLK_HZ(CLK_HZ),
      .BAUD  (BAUD)
  ) u_uart_tx (
      .clk_i    (clk_i),
      .rst_i    (rst_i),
      .s_data_i (tx_data),
      .s_valid_i(tx_valid),
      .s_ready_o(tx_ready),
      .tx_o     (uart_tx_o),
      .busy_o   (tx_busy)
  );

  // ---- protocol and core -------------------------------------------------------
  wire [7:0] cmd_data, rsp_data;
  wire cmd_valid, cmd_ready, rsp_valid, rsp_ready;
  wire core_rst, rx_active, tx_active, link_idle, link_error;
  wire core_busy, core_error;
  wire vd_valid, vd_ok;  // the core's verdict on each RUN / NET_RUN, for the link
  wire [47:0] vd_bytes;

  qa_link #(
      .ROWS          (ROWS),
      .COLS          (COLS),
      .XB_DEPTH      (XB_DEPTH),
      .WB_DEPTH      (WB_DEPTH),
      .PG_MAX        (PG_MAX),
      .BAUD          (BAUD),
      .MAX_PAYLOAD   (MAX_PAYLOAD),
      .RXBUF_BYTES   (RXBUF_BYTES),
      .RXQ_DEPTH     (RXQ_DEPTH),
      .TIMEOUT_CYCLES(TIMEOUT_CYCLES),
      .FIFO_BLOCK    (FIFO_BLOCK)
  ) u_link (
      .clk_i        (clk_i),
      .rst_i        (rst_i),
      .s_rx_data_i  (rx_data),
      .s_rx_err_i   (rx_err),
      .s_rx_valid_i (rx_valid),
      .s_rx_ready_o (rx_ready),
      .m_tx_data_o  (tx_data),
      .m_tx_valid_o (tx_valid),
      .m_tx_ready_i (tx_ready),
      .m_cmd_data_o (cmd_data),
      .m_cmd_valid_o(cmd_valid),
      .m_cmd_ready_i(cs_ready),
      .s_rsp_data_i (rsp_data),
      .s_rsp_valid_i(rsp_valid),
      .s_rsp_ready_o(rsp_ready),
      .s_vd_valid_i (vd_valid),
      .s_vd_ok_i    (vd_ok),
      .s_vd_bytes_i (vd_bytes),
      .core_rst_o   (core_rst),
      .rx_active_o  (rx_active),
      .tx_active_o  (tx_active),
      .idle_o       (link_idle),
      .error_o      (link_error)
  );

  // One register on the command stream between the link and the core
  // (timing: the link's receive-buffer read and the core's argument decode
  // fall in separate cycles); ready passes through, so a byte still moves
  // every clock. Flushed with the core.
  reg [7:0] cs_data_q;
  reg cs_valid_q;
  wire cs_ready = !cs_valid_q || cmd_ready;
  always @(posedge clk_i) begin
    if (rst_i || core_rst) cs_valid_q <= 1'b0;
    else if (cs_ready) cs_valid_q <= cmd_valid;
  end
  always @(posedge clk_i) begin
    if (cs_ready && cmd_valid) cs_data_q <= cmd_data;
  end

  qa_core #(
      .ROWS    (ROWS),
      .COLS    (COLS),
      .DATA_W  (8),
      .ACC_W   (ACC_W),
      .XB_DEPTH(XB_DEPTH),
      .WB_DEPTH(WB_DEPTH),
      .PG_MAX  (PG_MAX),
      .CLK_HZ  (CLK_HZ),
      .NL_MAX  (NL_MAX),
      .PE_PAIRS(PE_PAIRS),
      .W_SPRAM (W_SPRAM),
      .PROD_REG(PROD_REG),
      .RD_REG  (RD_REG),
      .FIFO_BLOCK(FIFO_BLOCK)
  ) u_core (
      .clk_i        (clk_i),
      .rst_i        (core_rst),
      .s_cmd_data_i (cs_data_q),
      .s_cmd_valid_i(cs_valid_q),
      .s_cmd_ready_o(cmd_ready),
      .m_rsp_data_o (rsp_data),
      .m_rsp_valid_o(rsp_valid),
      .m_rsp_ready_i(rsp_ready),
      .busy_o       (core_busy),
      .error_o      (core_error),
      .verdict_valid_o(vd_valid),
      .verdict_ok_o   (vd_ok),
      .verdict_bytes_o(vd_bytes)
  );

  // ---- LEDs --------------------------------------------------------------------
  reg [HALF_W-1:0] hb_q;  // clocks into the heartbeat's half second
  reg [1:0] busy_q;  // ticks the busy LED stays on (3 after busy)
  reg [3:0] err_q;  // ticks the error LED stays on (12 after an error)
  wire hb_wrap = (hb_q == HALF_CLKS[HALF_W-1:0] - 1'b1);
  wire tick = &hb_q[TICK_W-1:0];
  wire busy_now = core_busy || rx_active || tx_active || tx_busy;
  wire err_now = link_error || (rx_valid && rx_ready && rx_err) || rx_overrun;

  always @(posedge clk_i) begin
    if (rst_i) begin
      hb_q <= {HALF_W{1'b0}};
      led_heartbeat_o <= 1'b0;
      busy_q <= 2'd0;
      err_q <= 4'd0;
    end else begin
      hb_q <= hb_wrap ? {HALF_W{1'b0}} : hb_q + 1'b1;
      if (hb_wrap) led_heartbeat_o <= !led_heartbeat_o;
      if (busy_now) busy_q <= 2'd3;
      else if (tick && busy_q != 2'd0) busy_q <= busy_q - 2'd1;
      if (err_now) err_q <= 4'd12;
      else if (tick && err_q != 4'd0) err_q <= err_q - 4'd1;
    end
  end

  assign led_busy_o  = busy_now || (busy_q != 2'd0);
  assign busy_o      = core_busy || !link_idle || rx_busy || tx_busy;
  assign led_error_o = core_error || err_now || (err_q != 4'd0);

endmodule

`default_nettype wire
