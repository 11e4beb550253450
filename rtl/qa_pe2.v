// SPDX-License-Identifier: Apache-2.0
// qa_pe2: two neighbouring output-stationary PEs of one row (columns j and
// j+1) sharing one qa_mul8x2 - on the iCE40UP5K one SB_MAC16 in dual 8x8
// mode - with wide accumulators in the fabric.
//
// Ports as two chained qa_pe: operand a and the flags enter on the left and
// leave after two hops (one cycle per PE); b0 / b1 enter from the top for
// the two columns and leave downwards one cycle later. Both PEs multiply in
// the same cycle in which a qa_pe would (PE 0 on a_i, PE 1 on the a that PE 0
// passed on), but the product is registered inside the multiplier, so each
// accumulates one cycle later, with its flags as they leave the PE: res0_o
// and res1_o change one cycle later than a qa_pe's res_o. qa_array delays its
// row_done_o by one cycle to match. Everything advances only while en_i is
// high; only the flags are reset.
`default_nettype none

module qa_pe2 #(
    parameter integer DATA_W = 8,  // operand width in bits (signed), must be 8
    parameter integer ACC_W  = 32  // accumulator width in bits (signed)
) (
    input  wire                     clk_i,
    input  wire                     rst_i,
    input  wire                     en_i,
    // left -> right: operand a and the beat flags (two hops)
    input  wire signed [DATA_W-1:0] a_i,
    input  wire                     valid_i,
    input  wire                     first_i,
    input  wire                     last_i,
    output reg  signed [DATA_W-1:0] a_o,
    output reg                      valid_o,
    output reg                      first_o,
    output reg                      last_o,
    // top -> bottom: operand b of column j (b0) and j+1 (b1)
    input  wire signed [DATA_W-1:0] b0_i,
    input  wire signed [DATA_W-1:0] b1_i,
    output reg  signed [DATA_W-1:0] b0_o,
    output reg  signed [DATA_W-1:0] b1_o,
    // finished sums of the last tile, column j and j+1
    output reg  signed [ACC_W-1:0]  res0_o,
    output reg  signed [ACC_W-1:0]  res1_o
);

  generate
    if (DATA_W != 8) begin : g_bad_data_w
      qa_error_pe2_needs_8_bit_operands u_error ();
    end
    if (ACC_W < 2 * DATA_W) begin : g_bad_acc_w
      qa_error_acc_w_smaller_than_product u_error ();
    end
  endgenerate

  // PE 0 -> PE 1 link (what qa_pe's a_o / flags would be)
  reg signed [DATA_W-1:0] a_m;
  reg v_m, f_m, l_m;

  always @(posedge clk_i) begin
    if (rst_i) begin
      v_m <= 1'b0;
      f_m <= 1'b0;
      l_m <= 1'b0;
      valid_o <= 1'b0;
      first_o <= 1'b0;
      last_o <= 1'b0;
    end else if (en_i) begin
      v_m <= valid_i;
      f_m <= first_i;
      l_m <= last_i & valid_i;
      valid_o <= v_m;
      first_o <= f_m;
      last_o <= l_m & v_m;
    end
  end

  always @(posedge clk_i) begin
    if (en_i) begin
      a_m  <= a_i;
      a_o  <= a_m;
      b0_o <= b0_i;
      b1_o <= b1_i;
    end
  end

  // products of this cycle's operands, registered (ready next cycle)
  wire signed [2*DATA_W-1:0] p0, p1;
  qa_mul8x2 u_mul (
      .clk_i(clk_i),
      .ce_i (en_i),
      .a0_i (a_i),
      .b0_i (b0_i),
      .a1_i (a_m),
      .b1_i (b1_i),
      .p0_o (p0),
      .p1_o (p1)
  );

  // Accumulate one cycle after the multiply: the flags of the beat are then
  // in v_m/f_m/l_m (PE 0) and valid_o/first_o/last_o (PE 1).
  wire signed [ACC_W-1:0] p0_ext = {{(ACC_W - 2 * DATA_W) {p0[2*DATA_W-1]}}, p0};
  wire signed [ACC_W-1:0] p1_ext = {{(ACC_W - 2 * DATA_W) {p1[2*DATA_W-1]}}, p1};
  reg signed [ACC_W-1:0] acc0_q, acc1_q;
  wire signed [ACC_W-1:0] sum0 = f_m ? p0_ext : acc0_q + p0_ext;
  wire signed [ACC_W-1:0] sum1 = first_o ? p1_ext : acc1_q + p1_ext;

  always @(posedge clk_i) begin
    if (en_i) begin
      if (v_m) begin
        acc0_q <= sum0;
        if (l_m) res0_o <= sum0;
      end
      if (valid_o) begin
        acc1_q <= sum1;
        if (last_o) res1_o <= sum1;
      end
    end
  end

endmodule

`default_nettype wire
