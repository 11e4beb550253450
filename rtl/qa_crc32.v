// SPDX-License-Identifier: Apache-2.0
// qa_crc32: CRC-32/ISO-HDLC (the zlib / Ethernet CRC), one byte per clock.
//
// Reflected polynomial 0xEDB88320, initial value 0xFFFFFFFF, final XOR
// 0xFFFFFFFF: the CRC of "123456789" is 0xCBF43926 (docs/protocol.md).
// Each clock with valid_i high folds data_i into the register; init_i starts
// a new message (with valid_i in the same clock, data_i is its first byte).
// crc_o is the CRC of the bytes since the last init, registered: it shows a
// byte's effect one clock after the byte. The byte update is the bitwise
// algorithm unrolled eight times, a tree of XORs.
`default_nettype none

module qa_crc32 (
    input  wire        clk_i,
    input  wire        rst_i,    // same as init_i without a byte
    input  wire        init_i,   // start a new message
    input  wire        valid_i,  // fold data_i in
    input  wire [ 7:0] data_i,
    output wire [31:0] crc_o
);

  localparam [31:0] POLY = 32'hEDB88320;

  function [31:0] crc_byte;
    input [31:0] crc;
    input [7:0] data;
    integer b;
    reg [31:0] c;
    begin
      c = crc ^ {24'd0, data};
      for (b = 0; b < 8; b = b + 1) c = c[0] ? ((c >> 1) ^ POLY) : (c >> 1);
      crc_byte = c;
    end
  endfunction

  reg [31:0] state_q;
  wire [31:0] base = init_i ? 32'hFFFFFFFF : state_q;

  always @(posedge clk_i) begin
    if (rst_i) state_q <= 32'hFFFFFFFF;
    else if (valid_i) state_q <= crc_byte(base, data_i);
    else if (init_i) state_q <= 32'hFFFFFFFF;
  end

  assign crc_o = ~state_q;

endmodule

`default_nettype wire
