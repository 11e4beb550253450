// SPDX-License-Identifier: Apache-2.0
// qa_ram: simple dual-port RAM, one write port and one registered read port.
//
// Write: wr_en_i stores wr_data_i at wr_addr_i on the clock edge.
// Read: when rd_en_i is high, rd_data_o takes the word at rd_addr_i on the
// clock edge (one cycle of latency) and holds it while rd_en_i is low, so a
// stalled pipeline keeps its operand. Behavioural; synthesis infers block RAM.
//
// A read of the word written on the same edge returns undefined data: the
// memory is marked no_rw_check, so synthesis maps it straight onto the block
// RAM without the bypass logic that would fix the result (about 40 logic
// cells per instance on the iCE40). Every user reads only words written at
// least a clock earlier, or ignores what such a read returns. The simulators
// (no SYNTHESIS macro) return the old word inverted, so a user that does rely
// on a same-edge read fails the bit-exact tests.
`default_nettype none

module qa_ram #(
    parameter integer WIDTH  = 8,     // word width in bits
    parameter integer DEPTH  = 1024,  // number of words
    parameter integer ADDR_W = 10     // address bits, at least clog2(DEPTH)
) (
    input  wire              clk_i,
    input  wire              wr_en_i,
    input  wire [ADDR_W-1:0] wr_addr_i,
    input  wire [WIDTH-1:0]  wr_data_i,
    input  wire              rd_en_i,
    input  wire [ADDR_W-1:0] rd_addr_i,
    output reg  [WIDTH-1:0]  rd_data_o
);

  generate
    if ((1 << ADDR_W) < DEPTH) begin : g_bad_addr_w
      qa_error_ram_addr_w_too_small u_error ();
    end
  endgenerate

  (* no_rw_check *) reg [WIDTH-1:0] mem[0:DEPTH-1];

  always @(posedge clk_i) begin
    if (wr_en_i) mem[wr_addr_i] <= wr_data_i;
  end

`ifdef SYNTHESIS
  always @(posedge clk_i) begin
    if (rd_en_i) rd_data_o <= mem[rd_addr_i];
  end
`else
  always @(posedge clk_i) begin
    if (rd_en_i) begin
      if (wr_en_i && wr_addr_i == rd_addr_i) rd_data_o <= ~mem[rd_addr_i];  // undefined
      else rd_data_o <= mem[rd_addr_i];
    end
  end
`endif

endmodule

`default_nettype wire
