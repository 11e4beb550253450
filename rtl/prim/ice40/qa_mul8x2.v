// SPDX-License-Identifier: Apache-2.0
// qa_mul8x2 (iCE40UP5K): two independent signed 8x8 multipliers with a
// registered product in one SB_MAC16 - vendor version of rtl/prim/qa_mul8x2.v,
// same ports and timing (p0_o = a0_i*b0_i, p1_o = a1_i*b1_i, one cycle of
// latency, both hold while ce_i is low).
//
// SB_MAC16 settings (Lattice "iCE40 DSP Function Usage Guide" and
// Yosys techlibs/ice40/cells_sim.v): MODE_8x8 = 1 splits the 16x16 multiplier
// into independent 8x8 multipliers; A_SIGNED = B_SIGNED = 1 makes both bytes
// of A and B signed. The top product A[15:8]*B[15:8] is stored in the
// TOP_8x8_MULT_REG pipeline register and routed to O[31:16]
// (TOPOUTPUT_SELECT = 2'b10); the bottom product A[7:0]*B[7:0] likewise to
// O[15:0] (BOT_8x8_MULT_REG, BOTOUTPUT_SELECT = 2'b10). The 16-bit DSP
// accumulators are not used: the caller accumulates in wide fabric adders.
`default_nettype none

module qa_mul8x2 (
    input  wire               clk_i,
    input  wire               ce_i,
    input  wire signed [ 7:0] a0_i,
    input  wire signed [ 7:0] b0_i,
    input  wire signed [ 7:0] a1_i,
    input  wire signed [ 7:0] b1_i,
    output wire signed [15:0] p0_o,
    output wire signed [15:0] p1_o
);

  wire [31:0] o;

  SB_MAC16 #(
      .NEG_TRIGGER             (1'b0),
      .C_REG                   (1'b0),
      .A_REG                   (1'b0),
      .B_REG                   (1'b0),
      .D_REG                   (1'b0),
      .TOP_8x8_MULT_REG        (1'b1),
      .BOT_8x8_MULT_REG        (1'b1),
      .PIPELINE_16x16_MULT_REG1(1'b0),
      .PIPELINE_16x16_MULT_REG2(1'b0),
      .TOPOUTPUT_SELECT        (2'b10),
      .TOPADDSUB_LOWERINPUT    (2'b00),
      .TOPADDSUB_UPPERINPUT    (1'b0),
      .TOPADDSUB_CARRYSELECT   (2'b00),
      .BOTOUTPUT_SELECT        (2'b10),
      .BOTADDSUB_LOWERINPUT    (2'b00),
      .BOTADDSUB_UPPERINPUT    (1'b0),
      .BOTADDSUB_CARRYSELECT   (2'b00),
      .MODE_8x8                (1'b1),
      .A_SIGNED                (1'b1),
      .B_SIGNED                (1'b1)
  ) u_mac (
      .CLK       (clk_i),
      .CE        (ce_i),
      .C         (16'd0),
      .A         ({a1_i, a0_i}),
      .B         ({b1_i, b0_i}),
      .D         (16'd0),
      .AHOLD     (1'b0),
      .BHOLD     (1'b0),
      .CHOLD     (1'b0),
      .DHOLD     (1'b0),
      .IRSTTOP   (1'b0),
      .IRSTBOT   (1'b0),
      .ORSTTOP   (1'b0),
      .ORSTBOT   (1'b0),
      .OLOADTOP  (1'b0),
      .OLOADBOT  (1'b0),
      .ADDSUBTOP (1'b0),
      .ADDSUBBOT (1'b0),
      .OHOLDTOP  (1'b0),
      .OHOLDBOT  (1'b0),
      .CI        (1'b0),
      .ACCUMCI   (1'b0),
      .SIGNEXTIN (1'b0),
      .O         (o),
      .CO        (),
      .ACCUMCO   (),
      .SIGNEXTOUT()
  );

  assign p1_o = o[31:16];
  assign p0_o = o[15:0];

endmodule

`default_nettype wire
