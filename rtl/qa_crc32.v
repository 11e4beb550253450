// SPDX-License-Identifier: Apache-2.0
// qa_crc32: CRC-32/ISO-HDLC (the zlib / Ethernet CRC), BITS bits per clock.
//
// Reflected polynomial 0xEDB88320, initial value 0xFFFFFFFF, final XOR
// 0xFFFFFFFF: the CRC of "123456789" is 0xCBF43926 (docs/protocol.md).
// A clock with valid_i high takes data_i; the register then folds it in,
// least significant bit first, BITS bits per clock for the next 8/BITS
// clocks, with busy_o high. valid_i and init_i must stay low while busy_o is
// high: a byte takes 1 + 8/BITS clocks (9 with one bit per clock, against
// the 40 or more a UART byte takes on the line). init_i starts a new message
// (with valid_i in the same clock, data_i is its first byte). crc_o is the
// CRC of the bytes taken since the last init once busy_o is low.
// Each clock applies the bitwise algorithm BITS times; one bit per clock is a
// shift and 14 XOR taps, about 50 iCE40 logic cells, against about 160 for a
// whole byte per clock.
`default_nettype none

module qa_crc32 #(
    parameter integer BITS = 1  // bits folded in per clock: 1, 2, 4 or 8
) (
    input  wire        clk_i,
    input  wire        rst_i,    // same as init_i without a byte
    input  wire        init_i,   // start a new message (only while busy_o is low)
    input  wire        valid_i,  // take data_i (only while busy_o is low)
    input  wire [ 7:0] data_i,
    output wire [31:0] crc_o,
    output wire        busy_o    // a byte is being folded in: crc_o not final
);

  generate
    if (BITS != 1 && BITS != 2 && BITS != 4 && BITS != 8) begin : g_bad_bits
      qa_error_crc32_bits_must_be_1_2_4_or_8 u_error ();
    end
  endgenerate

  localparam [31:0] POLY = 32'hEDB88320;
  localparam integer STEPS = 8 / BITS;

  reg [31:0] state_q;
  reg [7:0] sh_q;  // bits of the byte still to fold in, next at [0]
  reg [3:0] left_q;  // clocks of folding still to go

  function [31:0] fold;  // the bitwise algorithm, BITS times
    input [31:0] crc;
    input [7:0] data;
    integer b;
    reg [31:0] c;
    begin
      c = crc;
      for (b = 0; b < BITS; b = b + 1) c = (c[0] ^ data[b]) ? ((c >> 1) ^ POLY) : (c >> 1);
      fold = c;
    end
  endfunction

  always @(posedge clk_i) begin
    if (rst_i || init_i) state_q <= 32'hFFFFFFFF;
    else if (left_q != 4'd0) state_q <= fold(state_q, sh_q);
  end

  always @(posedge clk_i) begin
    sh_q <= valid_i ? data_i : (sh_q >> BITS);
    if (rst_i) left_q <= 4'd0;
    else if (valid_i) left_q <= STEPS[3:0];
    else if (left_q != 4'd0) left_q <= left_q - 4'd1;
  end

  assign crc_o  = ~state_q;
  assign busy_o = (left_q != 4'd0);

endmodule

`default_nettype wire
