// SPDX-License-Identifier: Apache-2.0
// tb_pe2: checks one qa_pe2 (two PEs sharing a dual 8x8 multiplier) against
// dot products the bench computes itself.
//
// Random tiles (K = 1..24 beats, random int8 operands including -128 and
// 127, random bubbles between beats and tiles, the enable toggled at random)
// are fed as qa_array feeds a row: a, b0, b1 and the flags of beat k in the
// same cycle (broadcast, no skew). done_o must rise exactly three enabled
// cycles after a tile's last beat, and then res0_o / res1_o must equal
// sum(a*b0) and sum(a*b1) of that tile. shift_i is random and chain_i
// random data: on every enabled clock the outputs must follow the bench's
// model of the chain (a copy of the new sums one clock before done_o wins
// over a shift; otherwise a shift moves res1_o to res0_o and chain_i to
// res1_o; else both hold).
//
// Compile with rtl/qa_pe2.v and rtl/prim/qa_mul8x2.v (behavioural), or with
// -DNETLIST and a Yosys netlist of qa_pe2 renamed qa_pe2_net plus Yosys's
// ice40/cells_sim.v (the SB_MAC16 model). plusargs: +seed=N +tiles=N
`default_nettype none

module tb_pe2;
  localparam integer ACC_W = 32;
  localparam integer MAXT = 4096;

  reg clk = 1'b0;
  always #5 clk = ~clk;

  reg rst = 1'b1;
  reg en = 1'b0;
  reg [7:0] a = 8'd0, b0 = 8'd0, b1 = 8'd0;
  reg valid = 1'b0, first = 1'b0, last = 1'b0;
  wire done;
  wire [ACC_W-1:0] res0, res1;
  reg shift = 1'b0;
  reg [ACC_W-1:0] chain = {ACC_W{1'b0}};

`ifdef NETLIST
  qa_pe2_net u_dut (
`else
  qa_pe2 #(
      .DATA_W(8),
      .ACC_W (ACC_W)
  ) u_dut (
`endif
      .clk_i  (clk),
      .rst_i  (rst),
      .en_i   (en),
      .a_i    (a),
      .valid_i(valid),
      .first_i(first),
      .last_i (last),
      .b0_i   (b0),
      .b1_i   (b1),
      .shift_i(shift),
      .chain_i(chain),
      .res0_o (res0),
      .res1_o (res1),
      .done_o (done)
  );

  // expected sums per tile, in order
  reg signed [ACC_W-1:0] exp0[0:MAXT-1];
  reg signed [ACC_W-1:0] exp1[0:MAXT-1];
  integer n_issued = 0, n_checked = 0, errors = 0;

  // the last beat, three enabled cycles back: done_o must equal it; the
  // bench's model of the two output registers (m0, m1, once a tile copied)
  reg [2:0] last_sr = 3'b000;
  reg signed [ACC_W-1:0] m0, m1;
  reg have_m = 1'b0;
  integer n_copied = 0;
  always @(posedge clk) begin
    if (rst) begin
      last_sr <= 3'b000;
    end else if (en) begin
      if (done !== last_sr[2]) begin
        $display("tb_pe2: FAIL done %b, want %b", done, last_sr[2]);
        errors = errors + 1;
      end
      if (have_m && ($signed(res0) !== m0 || $signed(res1) !== m1)) begin
        $display("tb_pe2: FAIL outputs %0d %0d, model %0d %0d (after %0d tiles)",
                 $signed(res0), $signed(res1), m0, m1, n_copied);
        errors = errors + 1;
      end
      if (done) begin
        if (n_checked >= n_issued) begin
          $display("tb_pe2: FAIL result without a tile");
          errors = errors + 1;
        end else if ($signed(res0) !== exp0[n_checked] || $signed(res1) !== exp1[n_checked]) begin
          $display("tb_pe2: FAIL tile %0d: res0 %0d (want %0d) res1 %0d (want %0d)", n_checked,
                   $signed(res0), exp0[n_checked], $signed(res1), exp1[n_checked]);
          errors = errors + 1;
        end
        n_checked = n_checked + 1;
      end
      // this edge: the copy (one clock before done), else a shift
      if (last_sr[1]) begin
        m0 = exp0[n_copied];
        m1 = exp1[n_copied];
        n_copied = n_copied + 1;
        have_m = 1'b1;
      end else if (shift) begin
        m0 = m1;
        m1 = chain;
      end
      last_sr <= {last_sr[1:0], valid & last};
    end
  end
  integer seed, tiles, t, k, kk, gap;
  reg signed [7:0] xa[0:31];
  reg signed [7:0] w0[0:31];
  reg signed [7:0] w1[0:31];
  reg signed [ACC_W-1:0] s0, s1;

  // the chain's controls change every clock, independently of the beats
  always @(posedge clk) begin
    shift <= (($random(seed) & 3) == 0);
    chain <= {$random(seed), $random(seed)};
  end

  function [7:0] rnd8;
    input integer dummy;
    integer r;
    begin
      r = $random(seed) & 15;
      if (r == 0) rnd8 = 8'h80;
      else if (r == 1) rnd8 = 8'h7f;
      else rnd8 = $random(seed);
    end
  endfunction

  // one clock: the enable is random (about 1 in 4 low); inputs only change
  // in enabled cycles, so the bench drives them and then waits for an
  // enabled edge
  task step;
    begin
      en <= (($random(seed) & 3) != 0);
      @(posedge clk);
      while (!en) begin
        en <= (($random(seed) & 3) != 0);
        @(posedge clk);
      end
    end
  endtask

  initial begin
    if (!$value$plusargs("seed=%d", seed)) seed = 1;
    if (!$value$plusargs("tiles=%d", tiles)) tiles = 500;
    if (tiles > MAXT) tiles = MAXT;
    repeat (3) @(posedge clk);
    rst <= 1'b0;
    for (t = 0; t < tiles; t = t + 1) begin
      k = 1 + ($random(seed) & 32'h7fffffff) % 24;
      s0 = 0;
      s1 = 0;
      for (kk = 0; kk < k; kk = kk + 1) begin
        xa[kk] = rnd8(0);
        w0[kk] = rnd8(0);
        w1[kk] = rnd8(0);
        s0 = s0 + xa[kk] * w0[kk];
        s1 = s1 + xa[kk] * w1[kk];
      end
      exp0[t] = s0;
      exp1[t] = s1;
      n_issued = t + 1;
      for (kk = 0; kk < k; kk = kk + 1) begin
        a <= xa[kk];
        b0 <= w0[kk];
        b1 <= w1[kk];
        valid <= 1'b1;
        first <= (kk == 0);
        last <= (kk == k - 1);
        step;
        // random bubbles inside a tile (valid low)
        gap = $random(seed) & 3;
        while (gap == 3) begin
          a <= rnd8(0);
          b0 <= rnd8(0);
          b1 <= rnd8(0);
          valid <= 1'b0;
          first <= ($random(seed) & 1);  // flags of a bubble mean nothing
          last <= ($random(seed) & 1);
          step;
          gap = $random(seed) & 3;
        end
      end
    end
    // drain: idle
    a <= 8'd0;
    b0 <= 8'd0;
    b1 <= 8'd0;
    valid <= 1'b0;
    first <= 1'b0;
    last <= 1'b0;
    repeat (8) step;
    if (n_checked != n_issued) begin
      $display("tb_pe2: FAIL %0d tiles issued, %0d checked", n_issued, n_checked);
      errors = errors + 1;
    end
    if (errors == 0) $display("tb_pe2: PASS %0d tiles", n_checked);
    else $display("tb_pe2: FAIL %0d errors", errors);
    $finish;
  end

endmodule

`default_nettype wire
