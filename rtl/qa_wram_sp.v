// SPDX-License-Identifier: Apache-2.0
// qa_wram_sp: one byte lane of the W memory on a single-port 16K x 16 RAM
// (qa_spram: an SB_SPRAM256KA on the iCE40UP5K), with qa_ram's ports.
//
// Up to 32768 bytes: byte address a lives in word a[14:1], high byte when
// a[0] is set, written with a two-nibble mask. Read: as qa_ram - when rd_en_i
// is high rd_data_o takes the byte at rd_addr_i one cycle later, and it holds
// while rd_en_i is low: the RAM is selected (CHIPSELECT) only in clocks with
// a read or a write, and a deselected SB_SPRAM256KA keeps its output (so
// Yosys's ice40/cells_sim.v models it, and the twin rtl/prim/qa_spram.v
// follows; no board has confirmed it yet). That costs no register for the
// last enabled address (15 flip-flops and 15 logic cells per lane). Write: wr_en_i stores wr_data_i at wr_addr_i. The
// one port is shared: while wr_any_i is high (a write to any lane of the
// memory; every lane's port then takes the write address, so the lanes share
// one address multiplexer) the read does not happen and rd_data_o is
// undefined for the next cycle(s) until a read completes. wr_en_i implies
// wr_any_i. qa_core with W_SPRAM = 1 guarantees that no W write happens
// while a RUN reads the W memory.
`default_nettype none

module qa_wram_sp #(
    parameter integer WIDTH  = 8,      // word width in bits, must be 8
    parameter integer DEPTH  = 32768,  // number of bytes, at most 32768
    parameter integer ADDR_W = 15      // address bits, at least clog2(DEPTH), at most 15
) (
    input  wire              clk_i,
    input  wire              wr_en_i,
    input  wire              wr_any_i,   // a write to any lane: the port takes wr_addr_i
    input  wire [ADDR_W-1:0] wr_addr_i,
    input  wire [WIDTH-1:0]  wr_data_i,
    input  wire              rd_en_i,
    input  wire [ADDR_W-1:0] rd_addr_i,
    output wire [WIDTH-1:0]  rd_data_o
);

  generate
    if (WIDTH != 8 || DEPTH > 32768 || ADDR_W > 15 || ADDR_W < 2 || (1 << ADDR_W) < DEPTH)
    begin : g_bad_params
      qa_error_wram_sp_needs_bytes_and_at_most_32k u_error ();
    end
  endgenerate

  wire [ADDR_W-1:0] addr = wr_any_i ? wr_addr_i : rd_addr_i;
  wire [14:0] addr15 = {{(15 - ADDR_W) {1'b0}}, addr};

  reg sel_q;  // which byte of the 16-bit word the last read returned
  always @(posedge clk_i) begin
    if (rd_en_i) sel_q <= rd_addr_i[0];
  end

  wire [15:0] dout;
  qa_spram u_spram (
      .clk_i    (clk_i),
      .cs_i     (rd_en_i || wr_any_i),
      .we_i     (wr_en_i),
      .mask_i   (addr15[0] ? 4'b1100 : 4'b0011),
      .addr_i   (addr15[14:1]),
      .wr_data_i({wr_data_i, wr_data_i}),
      .rd_data_o(dout)
  );

  assign rd_data_o = sel_q ? dout[15:8] : dout[7:0];

endmodule

`default_nettype wire
