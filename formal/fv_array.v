// SPDX-License-Identifier: Apache-2.0
// fv_array: formal harness for rtl/qa_array.v: a ROWS x COLS array computes
// exactly the integer matrix product, for all operand values.
//
// The harness plays the array's caller (qa_core's sequencer and skew): it
// feeds NT tiles back to back, each the product of a free ROWS x K matrix X
// and a free K x COLS matrix W (int8, fixed for the run), beat k of tile n
// entering row i i clocks late and column j j clocks late, as the array's
// header asks (with PE_PAIRS = 1 the array takes its operands broadcast:
// every row and column in the same clock). Bubbles (beats with valid low, operands free) may come at any
// clock, and the array's enable en_i is free: everything, the harness's
// feeding included, advances only on enabled clocks.
// Whenever row_done_o[i] is high on an enabled clock, row i has finished its
// next tile n, and every sum of that row in res_o must be
//   sum over k of X_n[i][k] * W_n[k][j]    (exact, ACC_W bits)
// No row may report more tiles than were fed. The check is bounded (the
// depth in formal/array.sby), but the operands are symbolic, so it holds for
// all 2^(8*2*K*(ROWS+COLS)) operand choices of the NT tiles.
// PE_PAIRS selects the array's build (0: qa_pe, 1: qa_pe2 pairs with the
// behavioural qa_mul8x2); the harness does not depend on the latency.
`default_nettype none

module fv_array #(
    parameter integer ROWS     = 2,   // PE rows
    parameter integer COLS     = 2,   // PE columns
    parameter integer K        = 3,   // beats per tile (dot-product length), 1..4
    parameter integer NT       = 2,   // tiles fed back to back, 1..2
    parameter integer DATA_W   = 8,   // operand width (int8; smaller for the stall task)
    parameter integer ACC_W    = 32,  // accumulator width
    parameter integer PE_PAIRS = 0    // the array's PE build
) (
    input wire                        clk,
    input wire                        rst_i,
    input wire                        en_i,
    input wire                        f_bubble_i,  // no beat this clock
    input wire [ROWS*DATA_W-1:0]      f_junk_a_i,  // operands of bubbles
    input wire [COLS*DATA_W-1:0]      f_junk_b_i
);

  localparam integer MAXD = (ROWS > COLS) ? ROWS : COLS;  // skew depth + 1
  localparam integer XN = ROWS * K;  // bytes of one X
  localparam integer WN = K * COLS;  // bytes of one W

  // the operands: X_n[i][k] is element (n*XN + i*K + k) of f_x, W_n[k][j]
  // element (n*WN + k*COLS + j) of f_w
  (* anyconst *) reg [NT*XN*DATA_W-1:0] f_x;
  (* anyconst *) reg [NT*WN*DATA_W-1:0] f_w;

  function signed [DATA_W-1:0] x_at;
    input integer n, i, k;
    x_at = f_x[(n * XN + i * K + k)*DATA_W+:DATA_W];
  endfunction
  function signed [DATA_W-1:0] w_at;
    input integer n, k, j;
    w_at = f_w[(n * WN + k * COLS + j)*DATA_W+:DATA_W];
  endfunction

  // the expected sum of PE (i, j) for tile n
  function signed [ACC_W-1:0] dot;
    input integer n, i, j;
    integer k;
    reg signed [ACC_W-1:0] s;
    begin
      s = {ACC_W{1'b0}};
      for (k = 0; k < K; k = k + 1) s = s + x_at(n, i, k) * w_at(n, k, j);
      dot = s;
    end
  endfunction

  reg f_init = 1'b1;
  always @(posedge clk) f_init <= 1'b0;
  always @(*) begin
    if (f_init) assume (rst_i);
    else assume (!rst_i);
`ifdef FV_STEADY
    // int8 task: no stalls, no bubbles (they multiply the solver's work; the
    // DATA_W=3 task has both)
    assume (en_i);
    assume (!f_bubble_i);
`endif
  end

  // ---- beat schedule: {valid, tile, k}, delayed d enabled clocks in f_hist[d] --
  reg [1:0] f_tile;  // next tile to feed (NT: done)
  reg [2:0] f_k;  // next beat of it
  wire f_beat = !f_init && (f_tile < NT) && !f_bubble_i;
  wire [5:0] f_now = {f_beat, f_tile[1:0], f_k};
  reg [5:0] f_hist[0:MAXD-1];  // f_hist[0] unused (the current beat is f_now)
  integer f_d;
  always @(posedge clk) begin
    if (f_init) begin
      f_tile <= 2'd0;
      f_k    <= 3'd0;
      for (f_d = 1; f_d < MAXD; f_d = f_d + 1) f_hist[f_d] <= 6'd0;
    end else if (en_i) begin
      if (f_beat) begin
        if (f_k == K - 1) begin
          f_k    <= 3'd0;
          f_tile <= f_tile + 2'd1;
        end else begin
          f_k <= f_k + 3'd1;
        end
      end
      if (MAXD > 1) f_hist[1] <= f_now;
      for (f_d = 2; f_d < MAXD; f_d = f_d + 1) f_hist[f_d] <= f_hist[f_d-1];
    end
  end

  function [5:0] entry;  // the beat d clocks ago
    input integer d;
    entry = (d == 0) ? f_now : f_hist[d];
  endfunction

  reg [ROWS*DATA_W-1:0] a_in;
  reg [ROWS-1:0] v_in, first_in, last_in;
  reg [COLS*DATA_W-1:0] b_in;
  integer f_r, f_c;
  reg [5:0] f_e;
  always @(*) begin
    for (f_r = 0; f_r < ROWS; f_r = f_r + 1) begin
      f_e = entry((PE_PAIRS != 0) ? 0 : f_r);
      v_in[f_r] = f_e[5];
      first_in[f_r] = f_e[5] && (f_e[2:0] == 3'd0);
      last_in[f_r] = f_e[5] && (f_e[2:0] == K - 1);
      a_in[f_r*DATA_W+:DATA_W] = f_e[5] ? x_at(f_e[4:3], f_r, f_e[2:0]) :
          f_junk_a_i[f_r*DATA_W+:DATA_W];
    end
    for (f_c = 0; f_c < COLS; f_c = f_c + 1) begin
      f_e = entry((PE_PAIRS != 0) ? 0 : f_c);
      b_in[f_c*DATA_W+:DATA_W] = f_e[5] ? w_at(f_e[4:3], f_e[2:0], f_c) :
          f_junk_b_i[f_c*DATA_W+:DATA_W];
    end
  end

  wire [ROWS*COLS*ACC_W-1:0] res_o;
  wire [ROWS-1:0] row_done_o;

  qa_array #(
      .ROWS    (ROWS),
      .COLS    (COLS),
      .DATA_W  (DATA_W),
      .ACC_W   (ACC_W),
      .PE_PAIRS(PE_PAIRS)
  ) u_dut (
      .clk_i     (clk),
      .rst_i     (rst_i),
      .en_i      (en_i),
      .a_i       (a_in),
      .valid_i   (v_in),
      .first_i   (first_in),
      .last_i    (last_in),
      .b_i       (b_in),
      .shift_i   ({ROWS{1'b0}}),  // the result chains are read in place here
      .res_o     (res_o),
      .row_done_o(row_done_o)
  );

  // ---- completed rows --------------------------------------------------------------
  reg [1:0] f_done[0:ROWS-1];  // tiles row i has reported
  integer f_i, f_j;
  always @(posedge clk) begin
    for (f_i = 0; f_i < ROWS; f_i = f_i + 1) begin
      if (f_init) f_done[f_i] <= 2'd0;
      else if (en_i && row_done_o[f_i]) f_done[f_i] <= f_done[f_i] + 2'd1;
    end
  end

  always @(*) begin
    if (!f_init) begin
      for (f_i = 0; f_i < ROWS; f_i = f_i + 1) begin
        assert (f_done[f_i] <= f_tile);
        if (en_i && row_done_o[f_i]) begin
          assert (f_done[f_i] < f_tile);  // a tile that was fed
          for (f_j = 0; f_j < COLS; f_j = f_j + 1)
            assert ($signed(res_o[(f_i*COLS+f_j)*ACC_W+:ACC_W]) == dot(f_done[f_i], f_i, f_j));
        end
      end
    end
  end

  // every row finishes every tile within the bound, also with stalls and bubbles
  reg f_stalled, f_bubbled;
  always @(posedge clk) begin
    if (f_init) begin
      f_stalled <= 1'b0;
      f_bubbled <= 1'b0;
    end else begin
      if (!en_i) f_stalled <= 1'b1;
      if (en_i && f_tile < NT && f_bubble_i) f_bubbled <= 1'b1;
    end
  end
  always @(posedge clk) begin
    if (!f_init) begin
`ifdef FV_STEADY
      cover (f_done[ROWS-1] == NT && f_done[0] == NT);
`else
      cover (f_done[ROWS-1] == NT && f_done[0] == NT && f_stalled && f_bubbled);
`endif
    end
  end

endmodule

`default_nettype wire
