// SPDX-License-Identifier: Apache-2.0
// fv_requant: formal harness for rtl/qa_requant.v against docs/numerics.md.
//
// Every input of the requantizer is free on every clock (acc, bias, shift,
// mode, lo, hi, valid, en, rst), so the proof covers all values, every
// rounding mode, every shift 0..31 and any lo/hi (also lo > hi). On every
// clock the harness computes the expected y and sat of the inputs with a
// reference written from the numerics contract, not from the RTL:
//   t = acc + bias in 40 bits (exact: |t| < 2^33)
//   floor      q with q*2^s <= t < (q+1)*2^s (checked as a lemma)
//   half_up    floor((t + h) / 2^s), h = 2^(s-1)
//   half_away  sign(t) * floor((|t| + h) / 2^s)
//   half_even  the nearer of q and q+1 by distance; on a tie the even one
//   y = lo if r < lo, hi if r > hi, r otherwise; sat = (r < lo) | (r > hi)
// and checks the reference against every example of docs/numerics.md. The
// expected values travel through a delay line of LATENCY entries that, like
// the requantizer, advances only on clocks with en_i high; once LATENCY
// enabled clocks have passed, y_o and sat_o must equal its head at every
// clock, and valid_o must be valid_i delayed by LATENCY enabled clocks
// (reset clears it). The harness does not look inside the requantizer, so it
// holds for any pipelining with that latency.
//
// The unbounded proof (task `prove`, k-induction) keeps en_i high (FV_EN1);
// reset stays free. Stalls are covered by structure instead: the .sby script
// checks that every flip-flop of the requantizer has en_i as its enable, so
// on a clock with en_i low no state changes (reset aside) and a stalled run
// is the unstalled run of the enabled clocks' inputs, with the outputs held
// in between. (A bounded run with a free en_i is valid too, but each clock
// of it costs the solver minutes; the `cover` task exercises stalls.)
`default_nettype none

module fv_requant #(
    parameter integer ACC_W   = 32,  // accumulator width of the instance under proof
    parameter integer LATENCY = 4    // the requantizer's latency in enabled clocks (2..15)
) (
    input wire                    clk,
    input wire                    rst_i,
    input wire                    en_i,
    input wire                    valid_i,
    input wire signed [ACC_W-1:0] acc_i,
    input wire signed [31:0]      bias_i,
    input wire [4:0]              shift_i,
    input wire [1:0]              round_i,
    input wire signed [7:0]       lo_i,
    input wire signed [7:0]       hi_i
);

  localparam integer RW = 40;  // reference width: no intermediate can overflow

  wire valid_o, sat_o;
  wire signed [7:0] y_o;

  qa_requant #(
      .ACC_W (ACC_W),
      .DATA_W(8)
  ) u_dut (
      .clk_i  (clk),
      .rst_i  (rst_i),
      .en_i   (en_i),
      .valid_i(valid_i),
      .acc_i  (acc_i),
      .bias_i (bias_i),
      .shift_i(shift_i),
      .round_i(round_i),
      .lo_i   (lo_i),
      .hi_i   (hi_i),
      .valid_o(valid_o),
      .y_o    (y_o),
      .sat_o  (sat_o)
  );

  // ---- reference model (docs/numerics.md, steps 2-4) -------------------------
  function signed [RW-1:0] ref_floor;  // floor(t / 2^s)
    input signed [RW-1:0] t;
    input [4:0] s;
    ref_floor = t >>> s;
  endfunction

  function signed [RW-1:0] ref_round;
    input signed [RW-1:0] t;
    input [4:0] s;
    input [1:0] mode;
    reg signed [RW-1:0] h, q, mag, d_lo, d_hi;
    begin
      h = (s == 5'd0) ? {RW{1'b0}} : ({{(RW - 1) {1'b0}}, 1'b1} <<< (s - 5'd1));
      q = ref_floor(t, s);
      case (mode)
        2'd0: ref_round = q;
        2'd1: ref_round = ref_floor(t + h, s);
        2'd2: begin
          mag = (t < 0) ? -t : t;
          ref_round = (t < 0) ? -ref_floor(mag + h, s) : ref_floor(mag + h, s);
        end
        default: begin
          d_lo = t - (q <<< s);  // distance down to q * 2^s
          d_hi = ((q + 1) <<< s) - t;  // distance up to (q + 1) * 2^s
          if (d_lo < d_hi) ref_round = q;
          else if (d_lo > d_hi) ref_round = q + 1;
          else ref_round = q[0] ? q + 1 : q;  // tie: the even neighbour
        end
      endcase
    end
  endfunction

  // ---- the contract, tracked through the latency -----------------------------
  reg f_init = 1'b1;  // first clock: reset is applied
  always @(posedge clk) f_init <= 1'b0;
  always @(*) if (f_init) assume (rst_i);
`ifdef FV_EN1
  // prove: the pipeline always advances (stalls: see the bmc task)
  always @(*) assume (en_i);
`endif

  // the expected output of this clock's inputs (docs/numerics.md, steps 2-4)
  wire signed [RW-1:0] f_t = $signed(acc_i) + $signed(bias_i);  // exact in RW bits
  wire signed [RW-1:0] f_r = ref_round(f_t, shift_i, round_i);
  wire signed [RW-1:0] f_lo_w = lo_i;  // sign-extended (both signed)
  wire signed [RW-1:0] f_hi_w = hi_i;
  wire f_below = f_r < f_lo_w;
  wire f_above = f_r > f_hi_w;
  wire signed [7:0] f_y = f_below ? lo_i : f_above ? hi_i : f_r[7:0];
  wire f_sat = f_below | f_above;

  // lemma: the reference floor is the floor quotient (q*2^s <= t < (q+1)*2^s)
  wire signed [RW-1:0] f_q = ref_floor(f_t, shift_i);
  always @(*) begin
    assert ((f_q <<< shift_i) <= f_t);
    assert (f_t < ((f_q + 1) <<< shift_i));
  end

  // a delay line of LATENCY entries {valid, sat, y}, advancing with en_i like
  // the requantizer; f_fill counts enabled clocks up to LATENCY
  reg [9:0] f_pipe[0:LATENCY-1];
  reg [LATENCY-1:0] f_pv;  // valid bits (reset)
  reg [3:0] f_fill;
  integer f_i;
  always @(posedge clk) begin
    if (en_i) begin
      f_pipe[0] <= {1'b0, f_sat, f_y};
      for (f_i = 1; f_i < LATENCY; f_i = f_i + 1) f_pipe[f_i] <= f_pipe[f_i-1];
      if (f_fill != LATENCY) f_fill <= f_fill + 4'd1;
    end
    if (rst_i) f_pv <= {LATENCY{1'b0}};
    else if (en_i) f_pv <= {f_pv[LATENCY-2:0], valid_i};
    if (f_init) f_fill <= en_i ? 4'd1 : 4'd0;
  end

  always @(*) begin
    if (!f_init) begin
      assert (valid_o == f_pv[LATENCY-1]);
      if (f_fill == LATENCY) begin
        assert (y_o == f_pipe[LATENCY-1][7:0]);
        assert (sat_o == f_pipe[LATENCY-1][8]);
      end
    end
  end

  // the reference reproduces the examples of docs/numerics.md (the rounding
  // table and the worked GEMM), so it is the contract and not a copy of the RTL
  always @(*) begin
    if (!f_init) begin
      assert (ref_round(40'sd5, 5'd1, 2'd0) == 40'sd2);
      assert (ref_round(40'sd5, 5'd1, 2'd1) == 40'sd3);
      assert (ref_round(40'sd5, 5'd1, 2'd2) == 40'sd3);
      assert (ref_round(40'sd5, 5'd1, 2'd3) == 40'sd2);
      assert (ref_round(-40'sd5, 5'd1, 2'd0) == -40'sd3);
      assert (ref_round(-40'sd5, 5'd1, 2'd1) == -40'sd2);
      assert (ref_round(-40'sd5, 5'd1, 2'd2) == -40'sd3);
      assert (ref_round(-40'sd5, 5'd1, 2'd3) == -40'sd2);
      assert (ref_round(40'sd1, 5'd1, 2'd0) == 40'sd0);
      assert (ref_round(40'sd1, 5'd1, 2'd1) == 40'sd1);
      assert (ref_round(40'sd1, 5'd1, 2'd2) == 40'sd1);
      assert (ref_round(40'sd1, 5'd1, 2'd3) == 40'sd0);
      assert (ref_round(-40'sd1, 5'd1, 2'd0) == -40'sd1);
      assert (ref_round(-40'sd1, 5'd1, 2'd1) == 40'sd0);
      assert (ref_round(-40'sd1, 5'd1, 2'd2) == -40'sd1);
      assert (ref_round(-40'sd1, 5'd1, 2'd3) == 40'sd0);
      assert (ref_round(40'sd6, 5'd2, 2'd0) == 40'sd1);
      assert (ref_round(40'sd6, 5'd2, 2'd1) == 40'sd2);
      assert (ref_round(40'sd6, 5'd2, 2'd2) == 40'sd2);
      assert (ref_round(40'sd6, 5'd2, 2'd3) == 40'sd2);
      assert (ref_round(-40'sd6, 5'd2, 2'd0) == -40'sd2);
      assert (ref_round(-40'sd6, 5'd2, 2'd1) == -40'sd1);
      assert (ref_round(-40'sd6, 5'd2, 2'd2) == -40'sd2);
      assert (ref_round(-40'sd6, 5'd2, 2'd3) == -40'sd2);
      assert (ref_round(-40'sd7, 5'd2, 2'd0) == -40'sd2);
      assert (ref_round(-40'sd7, 5'd2, 2'd1) == -40'sd2);
      assert (ref_round(-40'sd7, 5'd2, 2'd2) == -40'sd2);
      assert (ref_round(-40'sd7, 5'd2, 2'd3) == -40'sd2);
      assert (ref_round(-40'sd2, 5'd2, 2'd0) == -40'sd1);
      assert (ref_round(-40'sd2, 5'd2, 2'd1) == 40'sd0);
      assert (ref_round(-40'sd2, 5'd2, 2'd2) == -40'sd1);
      assert (ref_round(-40'sd2, 5'd2, 2'd3) == 40'sd0);
      assert (ref_round(-40'sd648, 5'd4, 2'd0) == -40'sd41);
      assert (ref_round(-40'sd648, 5'd4, 2'd1) == -40'sd40);
      assert (ref_round(-40'sd648, 5'd4, 2'd2) == -40'sd41);
      assert (ref_round(-40'sd648, 5'd4, 2'd3) == -40'sd40);
      assert (ref_round(40'sd12187, 5'd7, 2'd0) == 40'sd95);
      assert (ref_round(40'sd12187, 5'd7, 2'd1) == 40'sd95);
      assert (ref_round(40'sd12187, 5'd7, 2'd2) == 40'sd95);
      assert (ref_round(40'sd12187, 5'd7, 2'd3) == 40'sd95);
      assert (ref_round(40'sd2271, 5'd4, 2'd0) == 40'sd141);
      assert (ref_round(40'sd2271, 5'd4, 2'd1) == 40'sd142);
      assert (ref_round(40'sd2271, 5'd4, 2'd2) == 40'sd142);
      assert (ref_round(40'sd2271, 5'd4, 2'd3) == 40'sd142);
      assert (ref_round(40'sd3136, 5'd7, 2'd0) == 40'sd24);
      assert (ref_round(40'sd3136, 5'd7, 2'd1) == 40'sd25);
      assert (ref_round(40'sd3136, 5'd7, 2'd2) == 40'sd25);
      assert (ref_round(40'sd3136, 5'd7, 2'd3) == 40'sd24);
    end
  end

  // ---- reachability: a tie in half_even, saturation both ways, a stall --------
  always @(posedge clk) begin
    if (!f_init) begin
      cover (en_i && valid_i && round_i == 2'd3 && shift_i == 5'd4 && f_t == -40'sd648);
      cover (valid_o && sat_o && y_o == 8'sd127 && f_fill == LATENCY);
      cover (valid_o && sat_o && y_o == -8'sd128 && f_fill == LATENCY);
      cover (valid_o && !en_i && f_fill == LATENCY);
    end
  end

endmodule

`default_nettype wire
