// SPDX-License-Identifier: Apache-2.0
// qa_mul_reg: one signed W x W multiplier with a registered product - the
// behavioural twin of rtl/prim/ecp5/qa_mul_reg.v (one MULT18X18D with its
// output register).
//
// On a clock edge with ce_i high, p_o takes a_i*b_i (exact, 2*W bits,
// signed); with ce_i low it holds. One cycle of latency, no reset (data path
// only). Simulators, lint and the formal proofs use this file; the ECP5 build
// replaces it with the vendor version of the same module.
`default_nettype none

module qa_mul_reg #(
    parameter integer W = 8  // operand width in bits (signed)
) (
    input  wire                  clk_i,
    input  wire                  ce_i,
    input  wire signed [W-1:0]   a_i,
    input  wire signed [W-1:0]   b_i,
    output reg  signed [2*W-1:0] p_o
);

  always @(posedge clk_i) begin
    if (ce_i) p_o <= a_i * b_i;
  end

endmodule

`default_nettype wire
