// SPDX-License-Identifier: Apache-2.0
// qa_uart_tx: 8N1 UART transmitter with a fixed divider of CLK_HZ/BAUD clocks
// per bit.
//
// Input s_*: valid/ready with AXI-Stream rules; a byte is taken when
// s_valid_i && s_ready_o and sent as a start bit, 8 data bits LSB first and
// one stop bit, each DIV clocks long. s_ready_o is high while the line is idle
// and in the last clock of a stop bit, so bytes offered back to back leave
// with no idle time between them (10*DIV clocks per byte). tx_o comes straight
// from a flip-flop and idles high; the line goes low one clock after a byte is
// taken.
`default_nettype none

module qa_uart_tx #(
    parameter integer CLK_HZ = 48000000,  // clock frequency in Hz
    parameter integer BAUD   = 12000000   // line rate in bit/s; CLK_HZ/BAUD >= 4, within 2%
) (
    input  wire       clk_i,
    input  wire       rst_i,
    input  wire [7:0] s_data_i,
    input  wire       s_valid_i,
    output wire       s_ready_o,
    output wire       tx_o,       // serial output, idle high
    output wire       busy_o      // a byte is being sent
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
  localparam integer DIV_ERR = (DIV * BAUD > CLK_HZ) ? DIV * BAUD - CLK_HZ : CLK_HZ - DIV * BAUD;
  localparam integer T_W = clog2(DIV + 1);

  // ---- elaboration checks (the same rules as qa_uart_rx) ----------------------
  generate
    if (DIV < 4) begin : g_bad_div
      qa_error_uart_tx_needs_at_least_4_clocks_per_bit u_error ();
    end
    if (50 * DIV_ERR > CLK_HZ) begin : g_bad_rate
      qa_error_uart_tx_baud_error_above_2_percent u_error ();
    end
  endgenerate

  reg [9:0] shift_q;  // bit 0 is on the line; ones shift in behind the stop bit
  reg [3:0] bits_q;  // bits left to send, including the one on the line
  reg [T_W-1:0] timer_q;  // clocks left in the current bit, minus one

  wire bit_end = (timer_q == {T_W{1'b0}});
  assign s_ready_o = (bits_q == 4'd0) || (bits_q == 4'd1 && bit_end);
  wire take = s_valid_i && s_ready_o;

  always @(posedge clk_i) begin
    if (rst_i) begin
      shift_q <= 10'h3ff;
      bits_q  <= 4'd0;
      timer_q <= {T_W{1'b0}};
    end else if (take) begin
      shift_q <= {1'b1, s_data_i, 1'b0};
      bits_q  <= 4'd10;
      timer_q <= DIV[T_W-1:0] - 1'b1;
    end else if (bits_q != 4'd0) begin
      if (bit_end) begin
        shift_q <= {1'b1, shift_q[9:1]};
        bits_q  <= bits_q - 4'd1;
        timer_q <= DIV[T_W-1:0] - 1'b1;
      end else begin
        timer_q <= timer_q - 1'b1;
      end
    end
  end

  assign tx_o   = shift_q[0];
  assign busy_o = (bits_q != 4'd0);

endmodule

`default_nettype wire
