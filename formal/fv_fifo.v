// SPDX-License-Identifier: Apache-2.0
// fv_fifo: formal harness for rtl/qa_fifo.v (valid/ready stream rules).
//
// Both sides of the FIFO are free: the source may raise, drop and change
// s_valid_i/s_data_i at will (the FIFO must not rely on the source keeping the
// AXI-Stream rules), the sink may stall for any time, and reset may come at
// any clock. Proven:
//   - output rule: while m_valid_o && !m_ready_i the next clock still shows
//     m_valid_o with the same m_data_o (data stable while stalled);
//   - flow control: count_o = words accepted - words delivered since reset,
//     count_o <= DEPTH, s_ready_o = (count_o < DEPTH), m_valid_o = (count_o > 0)
//     (BLOCK = 1: and the only word was not written at the last edge), so no
//     word is taken while full and none delivered while empty; with
//     READY_REG = 1 s_ready_o is a flip-flop, and this shows it never
//     differs from the comparison;
//   - no loss, no duplication, no reordering: the solver may tag any one
//     accepted word (f_tag_i); the harness remembers its data and how many
//     words are ahead of it. It must stay inside the FIFO until exactly that
//     many words have left, and then leave with its data. Since any word can
//     be the tagged one, every word leaves once, in order, unchanged.
// The f_obs_* wires (pointers and storage of the FIFO, connected by the .sby
// script after flattening) appear only in assertions that make the proof
// inductive. With BLOCK = 1 the block RAM's read of a word on its write edge
// is undefined (qa_fifo's no_rw_check); the formal flow reads the RTL with
// SYNTHESIS defined, so it models the RAM as returning the old word, and the
// proof shows that such a word is never delivered.
`default_nettype none

module fv_fifo #(
    parameter integer WIDTH = 8,  // word width
    parameter integer DEPTH = 4,  // words, a power of two
    parameter integer CNT_W = 3,  // clog2(DEPTH + 1)
    parameter integer BLOCK = 0,  // qa_fifo's BLOCK
    parameter integer READY_REG = 0  // qa_fifo's READY_REG
) (
    input wire             clk,
    input wire             rst_i,
    input wire [WIDTH-1:0] s_data_i,
    input wire             s_valid_i,
    input wire             m_ready_i,
    input wire             f_tag_i    // free: track the word accepted now
);

  localparam integer PTR_W = CNT_W - 1;

  wire s_ready_o, m_valid_o;
  wire [WIDTH-1:0] m_data_o;
  wire [CNT_W-1:0] count_o;

  qa_fifo #(
      .WIDTH(WIDTH),
      .DEPTH(DEPTH),
      .CNT_W(CNT_W),
      .BLOCK(BLOCK),
      .READY_REG(READY_REG)
  ) u_dut (
      .clk_i    (clk),
      .rst_i    (rst_i),
      .s_data_i (s_data_i),
      .s_valid_i(s_valid_i),
      .s_ready_o(s_ready_o),
      .m_data_o (m_data_o),
      .m_valid_o(m_valid_o),
      .m_ready_i(m_ready_i),
      .count_o  (count_o)
  );

  wire do_wr = s_valid_i && s_ready_o;
  wire do_rd = m_valid_o && m_ready_i;

  reg f_init = 1'b1;
  always @(posedge clk) f_init <= 1'b0;
  always @(*) if (f_init) assume (rst_i);

  // ---- words in minus words out ------------------------------------------------
  reg [CNT_W:0] f_cnt;
  always @(posedge clk) begin
    if (rst_i) f_cnt <= {(CNT_W + 1) {1'b0}};
    else f_cnt <= f_cnt + {{CNT_W{1'b0}}, do_wr} - {{CNT_W{1'b0}}, do_rd};
  end

  // ---- the tagged word -----------------------------------------------------------
  reg f_trk;  // a tagged word is inside the FIFO
  reg [WIDTH-1:0] f_tdata;  // its data
  reg [CNT_W-1:0] f_ahead;  // words ahead of it
  wire f_out = f_trk && do_rd && (f_ahead == {CNT_W{1'b0}});  // it leaves now
  always @(posedge clk) begin
    if (rst_i) begin
      f_trk <= 1'b0;
    end else begin
      if (f_trk && do_rd) begin
        if (f_ahead == {CNT_W{1'b0}}) f_trk <= 1'b0;
        else f_ahead <= f_ahead - 1'b1;
      end
      if (!f_trk && do_wr && f_tag_i) begin
        f_trk   <= 1'b1;
        f_tdata <= s_data_i;
        f_ahead <= count_o - {{(CNT_W - 1) {1'b0}}, do_rd};
      end
    end
  end

  // ---- the stream rules ------------------------------------------------------------
  reg f_stall;  // last clock: valid and not ready, no reset
  reg [WIDTH-1:0] f_stall_data;
  always @(posedge clk) begin
    f_stall      <= !rst_i && m_valid_o && !m_ready_i;
    f_stall_data <= m_data_o;
  end

  always @(*) begin
    if (!f_init) begin
      assert (f_cnt <= DEPTH);
      assert ({1'b0, count_o} == f_cnt);
      assert (s_ready_o == (count_o != DEPTH[CNT_W-1:0]));
      assert (m_valid_o == ((count_o != {CNT_W{1'b0}}) && !f_fresh));
      if (f_fresh) assert (count_o == {{(CNT_W - 1) {1'b0}}, 1'b1});
      if (f_stall) begin
        assert (m_valid_o);
        assert (m_data_o == f_stall_data);
      end
      if (f_trk) assert (f_ahead < count_o);
      if (f_out) assert (m_data_o == f_tdata);
    end
  end

  // ---- induction strengthening: pointers and storage ------------------------------
  (* keep *) wire [PTR_W-1:0] f_obs_wr, f_obs_rd;
  (* keep *) wire [DEPTH*WIDTH-1:0] f_obs_mem;  // word i at [i*WIDTH +: WIDTH]
  wire f_fresh;  // BLOCK = 1: qa_fifo's fresh_q
  generate
    if (BLOCK != 0) begin : g_b
      (* keep *) wire f_obs_fresh;
      assign f_fresh = f_obs_fresh;
    end else begin : g_a
      assign f_fresh = 1'b0;
    end
  endgenerate
  wire [PTR_W-1:0] f_tslot = f_obs_rd + f_ahead[PTR_W-1:0];
  always @(*) begin
    if (!f_init) begin
      assert (f_obs_wr - f_obs_rd == count_o[PTR_W-1:0]);
      if (f_trk) assert (f_obs_mem[f_tslot*WIDTH+:WIDTH] == f_tdata);
      // BLOCK = 1: the registered head is the word at the read pointer
      if (BLOCK != 0 && m_valid_o) assert (m_data_o == f_obs_mem[f_obs_rd*WIDTH+:WIDTH]);
    end
  end

  // ---- reachability ---------------------------------------------------------------------
  reg f_was_full;
  always @(posedge clk) begin
    if (rst_i) f_was_full <= 1'b0;
    else if (!s_ready_o) f_was_full <= 1'b1;
  end
  always @(posedge clk) begin
    if (!f_init) begin
      cover (f_out && f_was_full && f_stall);  // a word out after full and a stall
      cover (f_was_full && count_o == 0);  // filled, then drained
    end
  end

endmodule

`default_nettype wire
