// SPDX-License-Identifier: Apache-2.0
// qa_cobs_dec: splits a received byte stream into frames at the start marker
// 0x00 and undoes the COBS stuffing of the frame body (docs/protocol.md,
// section 1).
//
// Input s_*: raw line bytes with their UART framing-error flag. Output m_*:
// one event per raw byte inside a frame, plus one per implied zero:
//   m_sof_o            a start marker (0x00 without error): a new frame begins
//   m_dat_o            a decoded body byte in m_data_o (a data byte, or the
//                      zero a code byte implies)
//   neither            a code byte that decodes to nothing yet
// m_err_o marks an event whose raw byte had a framing error; such a byte is
// never a start marker. Bytes outside a frame (before the first marker) give
// no event. The decoder does not know frame lengths: the frame parser counts
// the body bytes and ignores what follows its frame.
//
// Both sides valid/ready with AXI-Stream rules; one event register, so at
// most one byte every two clocks (a UART delivers one every 10*DIV clocks).
`default_nettype none

module qa_cobs_dec (
    input  wire       clk_i,
    input  wire       rst_i,
    input  wire [7:0] s_data_i,
    input  wire       s_err_i,
    input  wire       s_valid_i,
    output wire       s_ready_o,
    output wire [7:0] m_data_o,
    output wire       m_sof_o,
    output wire       m_dat_o,
    output wire       m_err_o,
    output wire       m_valid_o,
    input  wire       m_ready_i,
    output wire       busy_o      // an event or an implied zero is still to go out
);

  reg in_frame_q;  // a start marker has been seen
  reg [7:0] left_q;  // data bytes left in the current group; 0: next is a code
  reg ff_q;  // the current group's code is 0xFF (it implies no zero)
  reg zpend_q;  // the group just ended: its implied zero is still to go out

  reg out_valid_q, out_sof_q, out_dat_q, out_err_q;
  reg [7:0] out_data_q;

  assign s_ready_o = !out_valid_q && !zpend_q;
  wire take = s_valid_i && s_ready_o;
  wire is_sof = take && !s_err_i && (s_data_i == 8'h00);
  wire is_code = take && !is_sof && in_frame_q && (left_q == 8'd0);
  wire is_data = take && !is_sof && in_frame_q && (left_q != 8'd0);

  always @(posedge clk_i) begin
    if (rst_i) begin
      in_frame_q  <= 1'b0;
      left_q      <= 8'd0;
      ff_q        <= 1'b0;
      zpend_q     <= 1'b0;
      out_valid_q <= 1'b0;
      out_sof_q   <= 1'b0;
      out_dat_q   <= 1'b0;
      out_err_q   <= 1'b0;
      out_data_q  <= 8'd0;
    end else begin
      if (out_valid_q && m_ready_i) out_valid_q <= 1'b0;
      if (is_sof) begin
        in_frame_q  <= 1'b1;
        left_q      <= 8'd0;
        ff_q        <= 1'b0;
        out_valid_q <= 1'b1;
        out_sof_q   <= 1'b1;
        out_dat_q   <= 1'b0;
        out_err_q   <= 1'b0;
        out_data_q  <= 8'h00;
      end else if (is_code) begin
        // code c: c-1 data bytes follow; c == 1 is a zero right away
        left_q      <= s_data_i - 8'd1;
        ff_q        <= (s_data_i == 8'hFF);
        out_valid_q <= 1'b1;
        out_sof_q   <= 1'b0;
        out_dat_q   <= (s_data_i == 8'h01);
        out_err_q   <= s_err_i;
        out_data_q  <= 8'h00;
      end else if (is_data) begin
        left_q      <= left_q - 8'd1;
        zpend_q     <= (left_q == 8'd1) && !ff_q;
        out_valid_q <= 1'b1;
        out_sof_q   <= 1'b0;
        out_dat_q   <= 1'b1;
        out_err_q   <= s_err_i;
        out_data_q  <= s_data_i;
      end else if (zpend_q && !out_valid_q) begin
        zpend_q     <= 1'b0;
        out_valid_q <= 1'b1;
        out_sof_q   <= 1'b0;
        out_dat_q   <= 1'b1;
        out_err_q   <= 1'b0;
        out_data_q  <= 8'h00;
      end
    end
  end

  assign m_data_o  = out_data_q;
  assign m_sof_o   = out_sof_q;
  assign m_dat_o   = out_dat_q;
  assign m_err_o   = out_err_q;
  assign m_valid_o = out_valid_q;
  assign busy_o    = out_valid_q || zpend_q;

endmodule

`default_nettype wire
