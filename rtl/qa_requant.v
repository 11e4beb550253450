// SPDX-License-Identifier: Apache-2.0
// qa_requant: the requantizer (docs/numerics.md); the core has one, shared by
// every output (the results leave one byte per cycle anyway).
//
//   t = acc + bias                      (exact, TW = max(ACC_W, 32) + 1 bits)
//   r = round_shift(t, shift, round)    floor / half_up / half_away / half_even
//   y = clamp(r, lo, hi), sat = (r < lo) || (r > hi)
//
// Rounding is written as q = floor(t / 2^s) (an arithmetic shift of a signed
// value) plus an increment chosen from the remainder rem = t mod 2^s against
// the half point 2^(s-1): with the guard bit g = t[s-1] and the sticky bit
// st = |t[s-2:0], rem > half is g & st and rem == half is g & ~st; s = 0
// passes t through in every mode.
// Four register stages, each with one carry chain or one shifter at most, so
// that no stage limits the clock: (1) t = acc + bias; (2) q = t >>> s and the
// increment; (3) r = q + inc; (4) clamp and the saturation flag. All advance
// only while en_i is high; valid_i travels alongside with the same latency
// (LATENCY = 4 cycles). busy_o is high while any stage holds a valid value.
// Stage 2 keeps q saturated to QW = DATA_W + 2 bits: a q outside that range
// makes r = q + inc lie beyond every DATA_W-bit bound (|r| > 2^DATA_W), and
// so does the saturated q, so y and sat are the same with narrower stages 3
// and 4.
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
    output reg                      sat_o,
    output wire                     busy_o
);

  localparam integer TW = ((ACC_W > 32) ? ACC_W : 32) + 1;

  localparam [1:0] RND_FLOOR = 2'd0;
  localparam [1:0] RND_HALF_UP = 2'd1;
  localparam [1:0] RND_HALF_AWAY = 2'd2;
  localparam [1:0] RND_HALF_EVEN = 2'd3;

  reg v1_q, v2_q, v3_q;
  always @(posedge clk_i) begin
    if (rst_i) begin
      v1_q    <= 1'b0;
      v2_q    <= 1'b0;
      v3_q    <= 1'b0;
      valid_o <= 1'b0;
    end else if (en_i) begin
      v1_q    <= valid_i;
      v2_q    <= v1_q;
      v3_q    <= v2_q;
      valid_o <= v3_q;
    end
  end
  assign busy_o = v1_q || v2_q || v3_q || valid_o;

  // ---- stage 1: exact sum --------------------------------------------------
  wire signed [TW-1:0] acc_ext = {{(TW - ACC_W) {acc_i[ACC_W-1]}}, acc_i};
  wire signed [TW-1:0] bias_ext = {{(TW - 32) {bias_i[31]}}, bias_i};

  reg signed [TW-1:0] t_q;
  reg [4:0] shift_q;
  reg [1:0] round_q;
  reg signed [DATA_W-1:0] lo1_q, hi1_q, lo2_q, hi2_q, lo3_q, hi3_q;  // lo, hi beside the data

  always @(posedge clk_i) begin
    if (en_i) begin
      t_q     <= acc_ext + bias_ext;
      shift_q <= shift_i;
      round_q <= round_i;
      lo1_q   <= lo_i;
      hi1_q   <= hi_i;
      lo2_q   <= lo1_q;
      hi2_q   <= hi1_q;
      lo3_q   <= lo2_q;
      hi3_q   <= hi2_q;
    end
  end

  // ---- stage 2: floor shift, guard and sticky bits, the increment ----------
  wire signed [TW-1:0] q = t_q >>> shift_q;  // floor(t / 2^s): t_q is signed
  wire [31:0] t_lo = t_q[31:0];
  // bit b of t is the guard bit when b = s-1, a sticky bit when b < s-1:
  // masks from comparisons with constants (no adder or shifter in this stage)
  reg [31:0] guard_mask, sticky_mask;
  integer mb;
  always @(*) begin
    for (mb = 0; mb < 32; mb = mb + 1) begin
      guard_mask[mb]  = ({27'd0, shift_q} == mb + 1);
      sticky_mask[mb] = ({27'd0, shift_q} > mb + 1);
    end
  end
  wire guard = (t_lo & guard_mask) != 32'd0;
  wire sticky = (t_lo & sticky_mask) != 32'd0;
  wire above = guard & sticky;  // rem > half
  wire tie = guard & ~sticky;  // rem == half
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

  // q saturated to QW bits (see the header)
  localparam integer QW = DATA_W + 2;
  wire q_fits = (q[TW-1:QW-1] == {(TW - QW + 1) {q[TW-1]}});
  wire [QW-1:0] q_sat = q_fits ? q[QW-1:0] :
      q[TW-1] ? {1'b1, {(QW - 1) {1'b0}}} : {1'b0, {(QW - 1) {1'b1}}};
  reg signed [QW-1:0] q_q;
  reg inc_q;
  always @(posedge clk_i) begin
    if (en_i) begin
      q_q   <= q_sat;
      inc_q <= inc;
    end
  end

  // ---- stage 3: the rounded value --------------------------------------------
  reg signed [QW:0] r_q;  // one bit more: q_q + 1 may not fit QW bits
  always @(posedge clk_i) begin
    if (en_i) r_q <= {q_q[QW-1], q_q} + {{QW{1'b0}}, inc_q};
  end

  // ---- stage 4: clamp and saturation -----------------------------------------
  wire signed [QW:0] lo_ext = {{(QW + 1 - DATA_W) {lo3_q[DATA_W-1]}}, lo3_q};
  wire signed [QW:0] hi_ext = {{(QW + 1 - DATA_W) {hi3_q[DATA_W-1]}}, hi3_q};
  wire below_lo = r_q < lo_ext;
  wire above_hi = r_q > hi_ext;

  always @(posedge clk_i) begin
    if (en_i) begin
      sat_o <= below_lo | above_hi;
      if (below_lo) y_o <= lo3_q;
      else if (above_hi) y_o <= hi3_q;
      else y_o <= r_q[DATA_W-1:0];
    end
  end

endmodule

`default_nettype wire
