// SPDX-License-Identifier: Apache-2.0
// qa_pe: one output-stationary processing element (signed DATA_W x DATA_W MAC).
//
// Operand a enters from the left with its control flags (valid, first, last)
// and leaves to the right one cycle later; operand b enters from the top and
// leaves downwards one cycle later. On a valid beat the PE accumulates a*b:
// `first` restarts the accumulator with the product, `last` copies the
// finished sum (including this beat's product) into res_o, where it stays
// until the next `last` - or, on an enabled clock with shift_i high and no
// `last`, res_o takes chain_i (the neighbour's res_o: qa_array links the
// output registers of a row into a shift chain that the drain reads at its
// head). All registers advance only while en_i is high (the
// array's single global enable). Only control state (valid/first/last) is
// reset; data registers are not.
//
// PROD_REG = 1 registers the product (for a multiplier block's output
// register, and to keep the multiplier and the accumulator's carry chain in
// separate cycles) and accumulates it one cycle later, with its flags as they
// leave the PE: res_o then changes one cycle later, and qa_array delays its
// row_done_o to match.
`default_nettype none

module qa_pe #(
    parameter integer DATA_W   = 8,  // operand width in bits (signed)
    parameter integer ACC_W    = 32, // accumulator width in bits (signed)
    parameter integer PROD_REG = 0   // 1: product registered, accumulated a cycle later
) (
    input  wire                     clk_i,
    input  wire                     rst_i,
    input  wire                     en_i,
    // left -> right: operand a and the beat flags
    input  wire signed [DATA_W-1:0] a_i,
    input  wire                     valid_i,
    input  wire                     first_i,
    input  wire                     last_i,
    output reg  signed [DATA_W-1:0] a_o,
    output reg                      valid_o,
    output reg                      first_o,
    output reg                      last_o,
    // top -> bottom: operand b
    input  wire signed [DATA_W-1:0] b_i,
    output reg  signed [DATA_W-1:0] b_o,
    // finished sum of the last tile, and the row's result chain
    input  wire                     shift_i,
    input  wire signed [ACC_W-1:0]  chain_i,
    output reg  signed [ACC_W-1:0]  res_o
);

  // Elaboration check: an impossible parameter set instantiates a module
  // that does not exist, which stops every tool with the name as message.
  generate
    if (ACC_W < 2 * DATA_W) begin : g_bad_acc_w
      qa_error_acc_w_smaller_than_product u_error ();
    end
  endgenerate

  always @(posedge clk_i) begin
    if (rst_i) begin
      valid_o <= 1'b0;
      first_o <= 1'b0;
      last_o  <= 1'b0;
    end else if (en_i) begin
      valid_o <= valid_i;
      first_o <= first_i;
      last_o  <= last_i & valid_i;
    end
  end

  always @(posedge clk_i) begin
    if (en_i) begin
      a_o <= a_i;
      b_o <= b_i;
    end
  end

  // the product being accumulated and its flags: this beat's, or (PROD_REG)
  // the previous beat's, registered beside the flags that leave the PE
  wire signed [2*DATA_W-1:0] p;
  wire p_valid, p_first, p_last;
  generate
    if (PROD_REG != 0) begin : g_prod_reg
      // the multiplier and its output register: rtl/prim/qa_mul_reg.v, on
      // the ECP5 one MULT18X18D with its own register
      wire signed [2*DATA_W-1:0] prod_q;
      qa_mul_reg #(
          .W(DATA_W)
      ) u_mul (
          .clk_i(clk_i),
          .ce_i (en_i),
          .a_i  (a_i),
          .b_i  (b_i),
          .p_o  (prod_q)
      );
      assign p = prod_q;
      assign p_valid = valid_o;
      assign p_first = first_o;
      assign p_last = last_o;
    end else begin : g_prod_comb
      wire signed [2*DATA_W-1:0] prod = a_i * b_i;
      assign p = prod;
      assign p_valid = valid_i;
      assign p_first = first_i;
      assign p_last = last_i;
    end
  endgenerate

  wire signed [ACC_W-1:0] p_ext = {{(ACC_W - 2 * DATA_W) {p[2*DATA_W-1]}}, p};
  reg signed [ACC_W-1:0] acc_q;
  wire signed [ACC_W-1:0] sum = p_first ? p_ext : acc_q + p_ext;

  always @(posedge clk_i) begin
    if (en_i && p_valid) acc_q <= sum;
    if (en_i) begin
      if (p_valid && p_last) res_o <= sum;
      else if (shift_i) res_o <= chain_i;
    end
  end

endmodule

`default_nettype wire
