// SPDX-License-Identifier: Apache-2.0
// fv_uart_rx: formal harness for rtl/qa_uart_rx.v (DIV = CLK_HZ/BAUD clocks
// per bit).
//
// Task `live` (rx_i, m_ready_i and reset free on every clock; unbounded):
//   - the receiver never stays out of idle for more than HALF + 9*DIV clocks,
//     whatever the line does (HALF = (DIV-1)/2, the start-bit delay);
//   - after IDLE_GAP clocks of a high line it is idle with its synchroniser
//     full of ones, i.e. ready for a start edge (IDLE_GAP = HALF + 9*DIV + 2);
//   - output stream rule: while m_valid_o && !m_ready_i the next clock still
//     shows m_valid_o with the same m_data_o and m_err_o;
//   - a byte is dropped (overrun_o) only when the previous one still waits.
// Task `sync` (bounded, but from every idle state): the receiver starts in an
// arbitrary state that is idle with a high synchroniser - the states `live`
// proves are reached after any input and IDLE_GAP high clocks - and the line
// carries one correctly timed 8N1 frame of a free byte, then stays high. The
// byte must come out exactly once, unchanged, without a framing error, by
// HALF + 9*DIV + 4 clocks after the start bit began. Together: after any
// garbage, a gap of IDLE_GAP clocks and one frame, the receiver is in sync.
// f_obs_* wires look inside the receiver; the .sby script connects them.
`default_nettype none

module fv_uart_rx #(
    parameter integer CLK_HZ = 400,  // with BAUD: DIV = 4 clocks per bit
    parameter integer BAUD   = 100
) (
    input wire       clk,
    input wire       rst_i,
    input wire       rx_free_i,  // the line, when the harness does not drive it
    input wire       m_ready_i,
    input wire [7:0] f_byte_i    // sync: the byte sent (sampled at the start bit)
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

  localparam integer DIV = (CLK_HZ + BAUD / 2) / BAUD;
  localparam integer T_W = clog2(DIV + 1);  // the receiver's timer width
  localparam integer HALF = (DIV - 1) / 2;
  localparam integer BUSY_MAX = HALF + 9 * DIV;  // longest stretch out of idle
  localparam integer IDLE_GAP = BUSY_MAX + 2;
  localparam integer DEADLINE = BUSY_MAX + 4;  // start bit to m_valid_o

  wire [7:0] m_data_o;
  wire m_err_o, m_valid_o, overrun_o, busy_o;
  wire rx;

  qa_uart_rx #(
      .CLK_HZ(CLK_HZ),
      .BAUD  (BAUD)
  ) u_dut (
      .clk_i    (clk),
      .rst_i    (rst_i),
      .rx_i     (rx),
      .m_data_o (m_data_o),
      .m_err_o  (m_err_o),
      .m_valid_o(m_valid_o),
      .m_ready_i(m_ready_i),
      .overrun_o(overrun_o),
      .busy_o   (busy_o)
  );

  (* keep *) wire [1:0] f_obs_state;  // 0 = S_IDLE
  (* keep *) wire f_obs_meta, f_obs_rx, f_obs_prev;  // the synchroniser
  (* keep *) wire [T_W-1:0] f_obs_timer;  // clocks to the next sample
  (* keep *) wire [2:0] f_obs_bit;  // data bit being received

  reg f_init = 1'b1;
  always @(posedge clk) f_init <= 1'b0;

`ifdef FV_SYNC
  // ---- one 8N1 frame from an arbitrary idle state ----------------------------
  reg [7:0] f_t = 8'd0;  // clocks since the start bit began
  reg [7:0] f_byte;
  reg f_got = 1'b0;  // the byte came out
  always @(posedge clk) begin
    if (f_init) f_byte <= f_byte_i;
    if (f_t != 8'hFF) f_t <= f_t + 8'd1;
  end
  wire [7:0] f_bit = f_t / DIV[7:0];  // 0 start, 1..8 data, 9 stop, then idle
  assign rx = (f_bit == 8'd0) ? 1'b0 : (f_bit <= 8'd8) ? f_byte[f_bit-8'd1] : 1'b1;

  always @(*) begin
    assume (!rst_i);
    if (f_init) begin
      assume (f_obs_state == 2'd0);
      assume (f_obs_meta && f_obs_rx && f_obs_prev);
    end
    assume (m_ready_i);  // the sink keeps up (an old byte leaves at once)
  end

  always @(posedge clk) begin
    if (m_valid_o && f_t > 8'd1) f_got <= 1'b1;
    if (!f_init) begin
      // an old byte waiting at the start is taken in the first clock
      if (m_valid_o && f_t > 8'd1) begin
        assert (!f_got);  // exactly once
        assert (m_data_o == f_byte);
        assert (!m_err_o);
      end
      if (f_t > DEADLINE) assert (f_got || m_valid_o);
      assert (!overrun_o);
    end
  end
  always @(posedge clk) cover (f_got && f_t == DEADLINE + 2);
`else
  assign rx = rx_free_i;
  always @(*) if (f_init) assume (rst_i);

  // ---- bounded liveness: out of idle for at most BUSY_MAX clocks -------------
  reg [7:0] f_run;  // consecutive clocks out of idle
  reg [7:0] f_high;  // consecutive clocks with a high line (saturating)
  always @(posedge clk) begin
    if (rst_i || f_obs_state == 2'd0) f_run <= 8'd0;
    else if (f_run != 8'hFF) f_run <= f_run + 8'd1;
    if (!rx) f_high <= 8'd0;
    else if (f_high != 8'hFF) f_high <= f_high + 8'd1;
  end

  // ---- output stream rule ----------------------------------------------------
  reg f_stall;
  reg [8:0] f_stall_data;
  reg f_wait;  // a byte waited last clock and was not taken
  always @(posedge clk) begin
    f_stall      <= !rst_i && m_valid_o && !m_ready_i;
    f_stall_data <= {m_err_o, m_data_o};
  end

  always @(*) begin
    if (!f_init) begin
      assert (f_run <= BUSY_MAX);
      if (f_high >= IDLE_GAP) begin
        assert (f_obs_state == 2'd0);
        assert (f_obs_meta && f_obs_rx && f_obs_prev);
      end
      if (f_stall) begin
        assert (m_valid_o);
        assert ({m_err_o, m_data_o} == f_stall_data);
      end
      if (overrun_o) assert (f_stall);  // only when the previous byte waited
      assert (busy_o == (f_obs_state != 2'd0 || m_valid_o));
    end
  end

  // induction strengthening: clocks left until idle, counted from the
  // receiver's state; with f_run they add up to at most BUSY_MAX
  reg [7:0] f_left;
  always @(*) begin
    case (f_obs_state)
      2'd0: f_left = 8'd0;
      2'd1: f_left = f_obs_timer + 8'd1 + 9 * DIV;
      2'd2: f_left = f_obs_timer + 8'd1 + (8'd7 - f_obs_bit) * DIV + DIV;
      default: f_left = f_obs_timer + 8'd1;
    endcase
  end
  always @(*) begin
    if (!f_init) begin
      assert (f_run + f_left <= BUSY_MAX);
      // a byte starts 3 clocks after a low line: the line cannot have been
      // high for longer than the byte has been running, plus 2
      if (f_obs_state != 2'd0) assert (f_high <= f_run + 8'd2);
      if (f_obs_state == 2'd1) assert (f_obs_timer <= HALF - 1);
      if (f_obs_state[1]) assert (f_obs_timer <= DIV - 1);
    end
  end

  // induction strengthening: the synchroniser is a shift register of rx
  reg f_rx1, f_rx2, f_rx3;  // rx one, two, three clocks ago
  reg [1:0] f_since_rst = 2'd0;
  always @(posedge clk) begin
    f_rx1 <= rx;
    f_rx2 <= f_rx1;
    f_rx3 <= f_rx2;
    if (rst_i) f_since_rst <= 2'd0;
    else if (f_since_rst != 2'd3) f_since_rst <= f_since_rst + 2'd1;
  end
  always @(*) begin
    if (!f_init) begin
      if (f_since_rst >= 2'd1) assert (f_obs_meta == f_rx1);
      if (f_since_rst >= 2'd2) assert (f_obs_rx == f_rx2);
      if (f_since_rst >= 2'd3) assert (f_obs_prev == f_rx3);
      if (f_high >= 8'd1 && f_since_rst >= 2'd1) assert (f_obs_meta);
      if (f_high >= 8'd2 && f_since_rst >= 2'd2) assert (f_obs_rx);
      if (f_high >= 8'd3 && f_since_rst >= 2'd3) assert (f_obs_prev);
      if (f_since_rst == 2'd0) assert (f_obs_meta && f_obs_rx && f_obs_prev);
    end
  end

  always @(posedge clk) begin
    if (!f_init) begin
      cover (f_run == BUSY_MAX);  // the longest stretch is reachable
      cover (overrun_o);
    end
  end
`endif

endmodule

`default_nettype wire
