// SPDX-License-Identifier: Apache-2.0
// qa_spram: 16384 x 16 single-port RAM with nibble write masks - the
// behavioural twin of rtl/prim/ice40/qa_spram.v (one SB_SPRAM256KA).
//
// On a clock edge with cs_i high: if we_i, the nibbles of wr_data_i selected
// by mask_i (bit n = bits 4n+3..4n) are written at addr_i and rd_data_o
// becomes undefined (here: X); otherwise rd_data_o takes the word at addr_i
// (one cycle of latency). With cs_i low nothing changes. Contents are not
// initialised.
`default_nettype none

module qa_spram (
    input  wire        clk_i,
    input  wire        cs_i,
    input  wire        we_i,
    input  wire [ 3:0] mask_i,
    input  wire [13:0] addr_i,
    input  wire [15:0] wr_data_i,
    output reg  [15:0] rd_data_o
);

  reg [15:0] mem[0:16383];

  always @(posedge clk_i) begin
    if (cs_i) begin
      if (we_i) begin
        if (mask_i[0]) mem[addr_i][3:0] <= wr_data_i[3:0];
        if (mask_i[1]) mem[addr_i][7:4] <= wr_data_i[7:4];
        if (mask_i[2]) mem[addr_i][11:8] <= wr_data_i[11:8];
        if (mask_i[3]) mem[addr_i][15:12] <= wr_data_i[15:12];
        rd_data_o <= 16'bx;
      end else begin
        rd_data_o <= mem[addr_i];
      end
    end
  end

endmodule

`default_nettype wire
