// SPDX-License-Identifier: Apache-2.0
// qa_uart_rx: 8N1 UART receiver with a fixed divider of CLK_HZ/BAUD clocks
// per bit.
//
// The line is synchronised with two flip-flops. A falling edge of the idle
// line starts a byte; the start bit is sampled (DIV-1)/2 clocks later, near
// its middle, and a high level there is a glitch, not a start bit. The data
// bits follow LSB first, each sampled DIV clocks after the previous sample,
// then the stop bit; a low stop bit is a framing error, reported with the
// byte (m_err_o). The receiver is ready for the next start edge right after
// the stop-bit sample, so a sender up to half a bit fast over a byte still
// works. After a framing error the line must go high before a new start
// edge is seen, so a break (line held low) yields one byte, not a stream.
//
// Output m_*: valid/ready with AXI-Stream rules, one byte of holding register.
// A UART cannot be held off: if a byte completes while the previous one is
// still waiting, the new byte is dropped and overrun_o pulses for a cycle.
// Latency: m_valid_o rises 1 clock after the stop-bit sample.
//
// Timing budget: the start edge is seen 2-3 clocks after it happens (the
// synchroniser, a constant) with one clock of uncertainty, so the first sample
// lies within one clock of the bit's middle; a clock/baud mismatch of e% then
// moves the stop-bit sample by 9.5*e% of a bit. With the minimum divider of 4
// (one clock = 25% of a bit) and the 2% limit below, the worst sample stays
// 44% of a bit from the middle, inside the bit.
`default_nettype none

module qa_uart_rx #(
    parameter integer CLK_HZ = 48000000,  // clock frequency in Hz
    parameter integer BAUD   = 12000000   // line rate in bit/s; CLK_HZ/BAUD >= 4, within 2%
) (
    input  wire       clk_i,
    input  wire       rst_i,
    input  wire       rx_i,       // serial input, idle high (asynchronous)
    output wire [7:0] m_data_o,
    output wire       m_err_o,    // the byte's stop bit was low (framing error)
    output wire       m_valid_o,
    input  wire       m_ready_i,
    output reg        overrun_o,  // pulse: a byte was dropped (previous not taken)
    output wire       busy_o      // a byte is being received or waits in m_*
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

  // clocks per bit, rounded to nearest, and its error against the exact ratio
  localparam integer DIV = (CLK_HZ + BAUD / 2) / BAUD;
  localparam integer DIV_ERR = (DIV * BAUD > CLK_HZ) ? DIV * BAUD - CLK_HZ : CLK_HZ - DIV * BAUD;
  localparam integer HALF = (DIV - 1) / 2;  // clocks from the start edge to the first sample
  localparam integer T_W = clog2(DIV + 1);

  // ---- elaboration checks ----------------------------------------------------
  generate
    if (DIV < 4) begin : g_bad_div
      qa_error_uart_rx_needs_at_least_4_clocks_per_bit u_error ();
    end
    if (50 * DIV_ERR > CLK_HZ) begin : g_bad_rate
      qa_error_uart_rx_baud_error_above_2_percent u_error ();
    end
  endgenerate

  localparam [1:0] S_IDLE = 2'd0;
  localparam [1:0] S_START = 2'd1;
  localparam [1:0] S_DATA = 2'd2;
  localparam [1:0] S_STOP = 2'd3;

  // synchroniser; the third stage remembers the previous level for edges
  reg rx_meta_q, rx_q, rx_prev_q;
  always @(posedge clk_i) begin
    if (rst_i) begin
      rx_meta_q <= 1'b1;
      rx_q      <= 1'b1;
      rx_prev_q <= 1'b1;
    end else begin
      rx_meta_q <= rx_i;
      rx_q      <= rx_meta_q;
      rx_prev_q <= rx_q;
    end
  end

  reg [1:0] state_q;
  reg [T_W-1:0] timer_q;  // clocks until the next sample, counting down
  reg [2:0] bit_q;  // data bit being received
  reg [7:0] shift_q;
  reg [7:0] out_data_q;
  reg out_err_q, out_valid_q;

  wire sample = (timer_q == {T_W{1'b0}});

  always @(posedge clk_i) begin
    if (rst_i) begin
      state_q     <= S_IDLE;
      timer_q     <= {T_W{1'b0}};
      bit_q       <= 3'd0;
      out_valid_q <= 1'b0;
      overrun_o   <= 1'b0;
    end else begin
      overrun_o <= 1'b0;
      if (out_valid_q && m_ready_i) out_valid_q <= 1'b0;
      if (!sample) timer_q <= timer_q - 1'b1;
      case (state_q)
        S_IDLE: begin
          if (rx_prev_q && !rx_q) begin
            state_q <= S_START;
            timer_q <= HALF[T_W-1:0] - 1'b1;
          end
        end
        S_START: begin
          if (sample) begin
            if (rx_q) begin
              state_q <= S_IDLE;  // glitch: the line was high again mid-bit
            end else begin
              state_q <= S_DATA;
              timer_q <= DIV[T_W-1:0] - 1'b1;
              bit_q   <= 3'd0;
            end
          end
        end
        S_DATA: begin
          if (sample) begin
            timer_q <= DIV[T_W-1:0] - 1'b1;
            bit_q   <= bit_q + 3'd1;
            if (bit_q == 3'd7) state_q <= S_STOP;
          end
        end
        default: begin  // S_STOP
          if (sample) begin
            state_q <= S_IDLE;
            if (out_valid_q && !m_ready_i) begin
              overrun_o <= 1'b1;
            end else begin
              out_valid_q <= 1'b1;
            end
          end
        end
      endcase
    end
  end

  // data path (not reset)
  always @(posedge clk_i) begin
    if (state_q == S_DATA && sample) shift_q <= {rx_q, shift_q[7:1]};
    if (state_q == S_STOP && sample && !(out_valid_q && !m_ready_i)) begin
      out_data_q <= shift_q;
      out_err_q  <= !rx_q;
    end
  end

  assign m_data_o  = out_data_q;
  assign m_err_o   = out_err_q;
  assign m_valid_o = out_valid_q;
  assign busy_o    = (state_q != S_IDLE) || out_valid_q;

endmodule

`default_nettype wire
