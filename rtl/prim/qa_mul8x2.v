// SPDX-License-Identifier: Apache-2.0
// qa_mul8x2: two independent signed 8x8 multipliers with a registered
// product - the behavioural twin of rtl/prim/ice40/qa_mul8x2.v (one SB_MAC16
// in dual 8x8 mode).
//
// On a clock edge with ce_i high, p0_o takes a0_i*b0_i and p1_o takes
// a1_i*b1_i (exact, 16 bits, signed); with ce_i low both hold. One cycle of
// latency, no reset (data path only). Simulators and lint use this file; the
// iCE40 build replaces it with the vendor version of the same module.
`default_nettype none

module qa_mul8x2 (
    input  wire               clk_i,
    input  wire               ce_i,
    input  wire signed [ 7:0] a0_i,
    input  wire signed [ 7:0] b0_i,
    input  wire signed [ 7:0] a1_i,
    input  wire signed [ 7:0] b1_i,
    output reg  signed [15:0] p0_o,
    output reg  signed [15:0] p1_o
);

  always @(posedge clk_i) begin
    if (ce_i) begin
      p0_o <= a0_i * b0_i;
      p1_o <= a1_i * b1_i;
    end
  end

endmodule

`default_nettype wire
