// SPDX-License-Identifier: Apache-2.0
// qa_mul_reg for the ECP5: one MULT18X18D, signed 18x18, product in the
// block's own output register (REG_OUTPUT_CLK = CLK0, enabled by CE0), the
// input and pipeline registers unused. Same ports and behaviour as the twin
// rtl/prim/qa_mul_reg.v: on a clock edge with ce_i high p_o takes a_i*b_i.
//
// The register inside the block matters for placement: nextpnr then times the
// multiplier from the operands' flip-flops to the output register and the
// product from there to the accumulator, two short hops, instead of one path
// through the multiplier from wherever the operands are to wherever the
// accumulator is. (The block's input, pipeline and output registers each
// select a clock, clock enable and reset: parameters REG_*_CLK/CE/RST of
// MULT18X18D in Yosys's ecp5/cells_bb.v; nextpnr-ecp5 times a block with
// registers from its timing database by that configuration.)
`default_nettype none

module qa_mul_reg #(
    parameter integer W = 8  // operand width in bits (signed), at most 18
) (
    input  wire                  clk_i,
    input  wire                  ce_i,
    input  wire signed [W-1:0]   a_i,
    input  wire signed [W-1:0]   b_i,
    output wire signed [2*W-1:0] p_o
);

  generate
    if (W < 1 || W > 18) begin : g_bad_w
      qa_error_mul_reg_w_over_18 u_error ();
    end
  endgenerate

  // signed operands, sign-extended to the block's 18 bits
  wire [17:0] a = {{(18 - W) {a_i[W-1]}}, a_i};
  wire [17:0] b = {{(18 - W) {b_i[W-1]}}, b_i};
  wire [35:0] p;

  MULT18X18D #(
      .REG_INPUTA_CLK  ("NONE"),
      .REG_INPUTB_CLK  ("NONE"),
      .REG_INPUTC_CLK  ("NONE"),
      .REG_PIPELINE_CLK("NONE"),
      .REG_OUTPUT_CLK  ("CLK0"),
      .REG_OUTPUT_CE   ("CE0"),
      .REG_OUTPUT_RST  ("RST0"),
      .GSR             ("DISABLED"),
      .RESETMODE       ("SYNC"),
      .SOURCEB_MODE    ("B_SHIFT"),
      .MULT_BYPASS     ("DISABLED"),
      .CAS_MATCH_REG   ("FALSE")
  ) u_mult (
      .A0(a[0]), .A1(a[1]), .A2(a[2]), .A3(a[3]), .A4(a[4]), .A5(a[5]),
      .A6(a[6]), .A7(a[7]), .A8(a[8]), .A9(a[9]), .A10(a[10]), .A11(a[11]),
      .A12(a[12]), .A13(a[13]), .A14(a[14]), .A15(a[15]), .A16(a[16]), .A17(a[17]),
      .B0(b[0]), .B1(b[1]), .B2(b[2]), .B3(b[3]), .B4(b[4]), .B5(b[5]),
      .B6(b[6]), .B7(b[7]), .B8(b[8]), .B9(b[9]), .B10(b[10]), .B11(b[11]),
      .B12(b[12]), .B13(b[13]), .B14(b[14]), .B15(b[15]), .B16(b[16]), .B17(b[17]),
      .C0(1'b0), .C1(1'b0), .C2(1'b0), .C3(1'b0), .C4(1'b0), .C5(1'b0),
      .C6(1'b0), .C7(1'b0), .C8(1'b0), .C9(1'b0), .C10(1'b0), .C11(1'b0),
      .C12(1'b0), .C13(1'b0), .C14(1'b0), .C15(1'b0), .C16(1'b0), .C17(1'b0),
      .SIGNEDA(1'b1), .SIGNEDB(1'b1), .SOURCEA(1'b0), .SOURCEB(1'b0),
      .CLK0(clk_i), .CLK1(1'b0), .CLK2(1'b0), .CLK3(1'b0),
      .CE0(ce_i), .CE1(1'b0), .CE2(1'b0), .CE3(1'b0),
      .RST0(1'b0), .RST1(1'b0), .RST2(1'b0), .RST3(1'b0),
      .P0(p[0]), .P1(p[1]), .P2(p[2]), .P3(p[3]), .P4(p[4]), .P5(p[5]),
      .P6(p[6]), .P7(p[7]), .P8(p[8]), .P9(p[9]), .P10(p[10]), .P11(p[11]),
      .P12(p[12]), .P13(p[13]), .P14(p[14]), .P15(p[15]), .P16(p[16]), .P17(p[17]),
      .P18(p[18]), .P19(p[19]), .P20(p[20]), .P21(p[21]), .P22(p[22]), .P23(p[23]),
      .P24(p[24]), .P25(p[25]), .P26(p[26]), .P27(p[27]), .P28(p[28]), .P29(p[29]),
      .P30(p[30]), .P31(p[31]), .P32(p[32]), .P33(p[33]), .P34(p[34]), .P35(p[35])
  );

  assign p_o = p[2*W-1:0];

endmodule

`default_nettype wire
