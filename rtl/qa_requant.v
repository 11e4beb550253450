// SPDX-License-Identifier: Apache-2.0
// qa_requant: requantizer of one output column (docs/numerics.md).
//
//   t = acc + bias                      (exact, TW = max(ACC_W, 32) + 1 bits)
//   r = round_shift(t, shift, round)    floor / half_up / half_away / half_even
//   y = clamp(r, lo, hi), sat = (r < lo) || (r > hi)
//
// Rounding is written as q = floor(t / 2^s) (an arithmetic shift of a signed
// value) plus an increment chosen from the remainder rem = t mod 2^s and the
// half point h = 2^(s-1); s = 0 passes t through in every mode.
// Two register stages (t, then y/sat), both advancing only while en_i is
// high; valid_i travels alongside with the same latency (2 cycles).
`default_nettype none

module qa_requant #(
    parameter integer ACC_W  = 32,  // accumulator width in bits (signed)
    parameter integer DATA_W = 8    // output width in bits (signed)
) (
    input  wire                     clk_i,
    input  wire                     rst_i,
    input  wire                     en_i,
    input  wire                     valid_i,
    input  wire signed [ACC_W-1:0]  acc_i,
    input  wire signed [31:0]       bias_i,
    input  wire [4:0]               shift_i,
    input  wire [1:0]               round_i,   // 0 floor, 1 half_up, 2 half_away, 3 half_even
    input  wire signed [DATA_W-1:0] lo_i,
    input  wire signed [DATA_W-1:0] hi_i,
    output reg                      valid_o,
    output reg  signed [DATA_W-1:0] y_o,
    output reg                      sat_o
);

  localparam integer TW = ((ACC_W > 32) ? ACC_W : 32) + 1;

  localparam [1:0] RND_FLOOR = 2'd0;
  localparam [1:0] RND_HALF_UP = 2'd1;
  localparam [1:0] RND_HALF_AWAY = 2'd2;
  localparam [1:0] RND_HALF_EVEN = 2'd3;

  // ---- stage 1: exact sum --------------------------------------------------
  wire signed [TW-1:0] acc_ext = {{(TW - ACC_W) {acc_i[ACC_W-1]}}, acc_i};
  wire signed [TW-1:0] bias_ext = {{(TW - 32) {bias_i[31]}}, bias_i};

  reg signed [TW-1:0] t_q;
  reg [4:0] shift_q;
  reg [1:0] round_q;
  reg signed [DATA_W-1:0] lo_q, hi_q;
  reg valid_q;

  always @(posedge clk_i) begin
    if (rst_i) valid_q <= 1'b0;
    else if (en_i) valid_q <= valid_i;
  end

  always @(posedge clk_i) begin
    if (en_i) begin
      t_q     <= acc_ext + bias_ext;
      shift_q <= shift_i;
      round_q <= round_i;
      lo_q    <= lo_i;
      hi_q    <= hi_i;
    end
  end

  // ---- stage 2: round-shift and clamp --------------------------------------
  wire signed [TW-1:0] q = t_q >>> shift_q;  // floor(t / 2^s): t_q is signed
  wire [31:0] mask = (32'd1 << shift_q) - 32'd1;
  wire [31:0] rem = t_q[31:0] & mask;
  wire [31:0] half = (shift_q == 5'd0) ? 32'd0 : (32'd1 << (shift_q - 5'd1));
  wire above = rem > half;
  wire tie = (shift_q != 5'd0) && (rem == half);
  wire t_neg = t_q[TW-1];

  reg inc;
  always @(*) begin
    case (round_q)
      RND_FLOOR:     inc = 1'b0;
      RND_HALF_UP:   inc = above | tie;
      RND_HALF_AWAY: inc = above | (tie & ~t_neg);
      RND_HALF_EVEN: inc = above | (tie & q[0]);
      default:       inc = 1'b0;
    endcase
  end

  wire signed [TW-1:0] r = q + {{(TW - 1) {1'b0}}, inc};
  wire signed [TW-1:0] lo_ext = {{(TW - DATA_W) {lo_q[DATA_W-1]}}, lo_q};
  wire signed [TW-1:0] hi_ext = {{(TW - DATA_W) {hi_q[DATA_W-1]}}, hi_q};
  wire below_lo = r < lo_ext;
  wire above_hi = r > hi_ext;

  always @(posedge clk_i) begin
    if (rst_i) valid_o <= 1'b0;
    else if (en_i) valid_o <= valid_q;
  end

  always @(posedge clk_i) begin
    if (en_i) begin
      sat_o <= below_lo | above_hi;
      if (below_lo) y_o <= lo_q;
      else if (above_hi) y_o <= hi_q;
      else y_o <= r[DATA_W-1:0];
    end
  end

endmodule

`default_nettype wire
