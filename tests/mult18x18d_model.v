// SPDX-License-Identifier: Apache-2.0
// mult18x18d_model: a test model of the ECP5 MULT18X18D in the one
// configuration rtl/prim/ecp5/qa_mul_reg.v uses, written for
// tests/test_pe2_netlist.sh from the block's described function (Yosys ships
// only a black box, ecp5/cells_bb.v, whose port and parameter names this
// module repeats). Signed 18 x 18 -> 36-bit product (SIGNEDA = SIGNEDB = 1),
// input and pipeline registers off, the output register on CLK0 enabled by
// CE0 (reset RST0, synchronous). Any other configuration stops the
// simulation with an error, so the wrapper cannot drift from what is tested.
`default_nettype none

module MULT18X18D (
    input  wire A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17,
    input  wire B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17,
    input  wire C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17,
    input  wire SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input  wire CLK0, CLK1, CLK2, CLK3,
    input  wire CE0, CE1, CE2, CE3,
    input  wire RST0, RST1, RST2, RST3,
    output wire P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11,
                P12, P13, P14, P15, P16, P17, P18, P19, P20, P21, P22, P23,
                P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35
);
  parameter REG_INPUTA_CLK = "NONE";
  parameter REG_INPUTB_CLK = "NONE";
  parameter REG_INPUTC_CLK = "NONE";
  parameter REG_PIPELINE_CLK = "NONE";
  parameter REG_OUTPUT_CLK = "NONE";
  parameter REG_OUTPUT_CE = "CE0";
  parameter REG_OUTPUT_RST = "RST0";
  parameter GSR = "ENABLED";
  parameter RESETMODE = "SYNC";
  parameter SOURCEB_MODE = "B_SHIFT";
  parameter MULT_BYPASS = "DISABLED";
  parameter CAS_MATCH_REG = "FALSE";

  wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
  wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
  reg  [35:0] p_q;

  initial begin
    if (REG_INPUTA_CLK != "NONE" || REG_INPUTB_CLK != "NONE" || REG_INPUTC_CLK != "NONE" ||
        REG_PIPELINE_CLK != "NONE" || REG_OUTPUT_CLK != "CLK0" || REG_OUTPUT_CE != "CE0" ||
        REG_OUTPUT_RST != "RST0" || MULT_BYPASS != "DISABLED" || RESETMODE != "SYNC") begin
      $display("mult18x18d_model: configuration not modelled");
      $finish;
    end
  end

  always @(posedge CLK0) begin
    if (SIGNEDA !== 1'b1 || SIGNEDB !== 1'b1 || SOURCEA !== 1'b0 || SOURCEB !== 1'b0) begin
      $display("mult18x18d_model: only signed A and B from the A/B inputs are modelled");
      $finish;
    end
    if (RST0) p_q <= 36'd0;
    else if (CE0) p_q <= $signed(a) * $signed(b);
  end

  assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18,
          P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p_q;
endmodule

`default_nettype wire
