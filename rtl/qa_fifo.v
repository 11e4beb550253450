// SPDX-License-Identifier: Apache-2.0
// qa_fifo: synchronous FIFO with valid/ready ports and a fill level.
//
// Input s_*: a word is written when s_valid_i && s_ready_o; s_ready_o is low
// only when the FIFO is full. Output m_*: m_valid_o is high while the FIFO
// holds a word and m_data_o shows the oldest one (read combinationally from a
// register array); the word leaves when m_ready_i is high.
// count_o is the number of stored words. DEPTH must be a power of two.
// BLOCK = 0 leaves the storage to the tool, which picks flip-flops for small
// FIFOs (on the iCE40 a logic cell per bit) and reads it combinationally.
// BLOCK = 1 puts the words in block RAM (Yosys: ram_style "block") behind a
// registered read of the next head word. A block RAM read of the word written
// on the same edge is undefined (no_rw_check: no bypass logic, which costs
// about WIDTH + 10 logic cells), so a word becomes visible one clock after it
// was written: m_valid_o is low for that clock when it is the only word. That
// clock of latency when the FIFO was empty is the only difference from
// BLOCK = 0; the simulators (no SYNTHESIS macro) return the head word
// inverted for a read on its write edge, so a mistake there shows in tests.
// READY_REG = 1 drives s_ready_o from a flip-flop that holds the same value
// (the next fill level compared with DEPTH, a clock early), for a ready with
// a large fan-out: the same behaviour, cycle for cycle, one more flip-flop.
`default_nettype none

module qa_fifo #(
    parameter integer WIDTH = 8,  // word width in bits
    parameter integer DEPTH = 4,  // number of words, a power of two >= 2
    parameter integer CNT_W = 3,  // count bits, clog2(DEPTH + 1)
    parameter integer BLOCK = 0,  // 1: block RAM even when small
    parameter integer READY_REG = 0  // 1: s_ready_o from a flip-flop
) (
    input  wire             clk_i,
    input  wire             rst_i,
    input  wire [WIDTH-1:0] s_data_i,
    input  wire             s_valid_i,
    output wire             s_ready_o,
    output wire [WIDTH-1:0] m_data_o,
    output wire             m_valid_o,
    input  wire             m_ready_i,
    output reg  [CNT_W-1:0] count_o
);

  localparam integer PTR_W = (CNT_W > 1) ? CNT_W - 1 : 1;

  generate
    if ((DEPTH < 2) || ((DEPTH & (DEPTH - 1)) != 0) || ((1 << (CNT_W - 1)) != DEPTH)) begin : g_bad_depth
      qa_error_fifo_depth_not_power_of_two_or_cnt_w_wrong u_error ();
    end
  endgenerate

  reg [PTR_W-1:0] wr_ptr_q, rd_ptr_q;

  wire do_wr = s_valid_i && s_ready_o;
  wire do_rd = m_valid_o && m_ready_i;

  always @(posedge clk_i) begin
    if (rst_i) begin
      wr_ptr_q <= {PTR_W{1'b0}};
      rd_ptr_q <= {PTR_W{1'b0}};
      count_o  <= {CNT_W{1'b0}};
    end else begin
      if (do_wr) wr_ptr_q <= wr_ptr_q + 1'b1;
      if (do_rd) rd_ptr_q <= rd_ptr_q + 1'b1;
      if (do_wr && !do_rd) count_o <= count_o + 1'b1;
      else if (do_rd && !do_wr) count_o <= count_o - 1'b1;
    end
  end

  generate
    if (READY_REG != 0) begin : g_ready_reg
      // full after this edge: one word short of DEPTH and a write without a
      // read, or full and no read
      reg ready_q;
      wire full_next = (count_o == DEPTH[CNT_W-1:0] - 1'b1) ? (do_wr && !do_rd) :
                       (count_o == DEPTH[CNT_W-1:0]) && !do_rd;
      always @(posedge clk_i) begin
        if (rst_i) ready_q <= 1'b1;
        else ready_q <= !full_next;
      end
      assign s_ready_o = ready_q;
    end else begin : g_ready_comb
      assign s_ready_o = (count_o != DEPTH[CNT_W-1:0]);
    end
  endgenerate

  generate
    if (BLOCK != 0) begin : g_block
      reg fresh_q;  // the word written at the last edge is the only one
      reg [WIDTH-1:0] head_q;  // the word at rd_ptr_q, read at the last edge
      wire [PTR_W-1:0] rd_next = do_rd ? rd_ptr_q + 1'b1 : rd_ptr_q;
      (* ram_style = "block", no_rw_check *) reg [WIDTH-1:0] mem[0:DEPTH-1];
      always @(posedge clk_i) begin
        if (do_wr) mem[wr_ptr_q] <= s_data_i;
      end
`ifdef SYNTHESIS
      always @(posedge clk_i) head_q <= mem[rd_next];
`else
      always @(posedge clk_i) begin
        if (do_wr && wr_ptr_q == rd_next) head_q <= ~mem[rd_next];  // undefined
        else head_q <= mem[rd_next];
      end
`endif
      always @(posedge clk_i) begin
        if (rst_i) fresh_q <= 1'b0;
        else fresh_q <= do_wr && (count_o == (do_rd ? {{(CNT_W - 1) {1'b0}}, 1'b1} :
                                                      {CNT_W{1'b0}}));
      end
      assign m_data_o  = head_q;
      assign m_valid_o = (count_o != {CNT_W{1'b0}}) && !fresh_q;
    end else begin : g_any
      reg [WIDTH-1:0] mem[0:DEPTH-1];
      always @(posedge clk_i) begin
        if (do_wr) mem[wr_ptr_q] <= s_data_i;
      end
      assign m_data_o  = mem[rd_ptr_q];
      assign m_valid_o = (count_o != {CNT_W{1'b0}});
    end
  endgenerate

endmodule

`default_nettype wire
