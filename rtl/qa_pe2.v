// SPDX-License-Identifier: Apache-2.0
// qa_pe2: two output-stationary PEs of one row (columns j and j+1) sharing
// one qa_mul8x2 - on the iCE40UP5K one SB_MAC16 in dual 8x8 mode - with
// wide accumulators in the fabric.
//
// Broadcast, not systolic: both PEs take the row's operand a_i and the beat
// flags in the same cycle, PE 0 with its column's b0_i and PE 1 with b1_i;
// nothing is passed on to a neighbour, so the caller applies no skew (see
// qa_array, PE_PAIRS = 1). A beat presented in enabled cycle t is
// multiplied in t (the product is registered inside the multiplier),
// accumulated in t+1, and after a tile's last beat both finished sums are
// copied from the accumulators into res0_o / res1_o in t+2. done_o is high
// for one enabled cycle, t+3, the first in which res0_o / res1_o hold that
// tile's sums; they hold them until the next tile's copy.
// Copying from the accumulator registers a cycle after the last beat, rather
// than from the adders, leaves each adder driving only its accumulator (on
// the iCE40 the adder's LUT and the flip-flop then share a logic cell).
// The output registers of a row's pairs form a shift chain (qa_array): on
// an enabled clock with shift_i high and no copy, res0_o takes res1_o and
// res1_o takes chain_i (the next pair's res0_o), so the caller reads every
// sum of the row at the head of the chain, one per shift, without a wide
// multiplexer. A copy takes precedence over a shift.
// Everything advances only while en_i is high; only the flags are reset.
`default_nettype none

module qa_pe2 #(
    parameter integer DATA_W = 8,  // operand width in bits (signed), must be 8
    parameter integer ACC_W  = 32  // accumulator width in bits (signed)
) (
    input  wire                     clk_i,
    input  wire                     rst_i,
    input  wire                     en_i,
    // the row's operand and beat flags (both PEs)
    input  wire signed [DATA_W-1:0] a_i,
    input  wire                     valid_i,
    input  wire                     first_i,
    input  wire                     last_i,
    // operand b of column j (b0) and j+1 (b1)
    input  wire signed [DATA_W-1:0] b0_i,
    input  wire signed [DATA_W-1:0] b1_i,
    // finished sums of the last tile, column j and j+1, and their shift chain
    input  wire                     shift_i,
    input  wire signed [ACC_W-1:0]  chain_i,
    output reg  signed [ACC_W-1:0]  res0_o,
    output reg  signed [ACC_W-1:0]  res1_o,
    output wire                     done_o
);

  generate
    if (DATA_W != 8) begin : g_bad_data_w
      qa_error_pe2_needs_8_bit_operands u_error ();
    end
    if (ACC_W < 2 * DATA_W) begin : g_bad_acc_w
      qa_error_acc_w_smaller_than_product u_error ();
    end
  endgenerate

  // products of this cycle's operands, registered (ready next cycle)
  wire signed [2*DATA_W-1:0] p0, p1;
  qa_mul8x2 u_mul (
      .clk_i(clk_i),
      .ce_i (en_i),
      .a0_i (a_i),
      .b0_i (b0_i),
      .a1_i (a_i),
      .b1_i (b1_i),
      .p0_o (p0),
      .p1_o (p1)
  );

  // the beat's flags beside its products (v/f/l), the copy (cp) and done
  reg v_q, f_q, l_q, cp_q, done_q;
  always @(posedge clk_i) begin
    if (rst_i) begin
      v_q    <= 1'b0;
      f_q    <= 1'b0;
      l_q    <= 1'b0;
      cp_q   <= 1'b0;
      done_q <= 1'b0;
    end else if (en_i) begin
      v_q    <= valid_i;
      f_q    <= first_i;
      l_q    <= last_i && valid_i;
      cp_q   <= v_q && l_q;
      done_q <= cp_q;
    end
  end
  assign done_o = done_q;

  wire signed [ACC_W-1:0] p0_ext = {{(ACC_W - 2 * DATA_W) {p0[2*DATA_W-1]}}, p0};
  wire signed [ACC_W-1:0] p1_ext = {{(ACC_W - 2 * DATA_W) {p1[2*DATA_W-1]}}, p1};
  reg signed [ACC_W-1:0] acc0_q, acc1_q;

  always @(posedge clk_i) begin
    if (en_i) begin
      if (v_q) begin
        acc0_q <= f_q ? p0_ext : acc0_q + p0_ext;
        acc1_q <= f_q ? p1_ext : acc1_q + p1_ext;
      end
      if (cp_q) begin
        res0_o <= acc0_q;
        res1_o <= acc1_q;
      end else if (shift_i) begin
        res0_o <= res1_o;
        res1_o <= chain_i;
      end
    end
  end

endmodule

`default_nettype wire
