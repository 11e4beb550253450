// SPDX-License-Identifier: Apache-2.0
// qa_spram (iCE40UP5K): 16384 x 16 single-port RAM, one SB_SPRAM256KA -
// vendor version of rtl/prim/qa_spram.v, same ports and timing.
//
// SB_SPRAM256KA pins (Lattice "iCE40 SPRAM Usage Guide"): MASKWREN
// bit n enables the write of nibble n; the output after a write cycle is
// undefined. STANDBY = SLEEP = 0 and POWEROFF = 1 (active low) keep the
// block powered and active.
`default_nettype none

module qa_spram (
    input  wire        clk_i,
    input  wire        cs_i,
    input  wire        we_i,
    input  wire [ 3:0] mask_i,
    input  wire [13:0] addr_i,
    input  wire [15:0] wr_data_i,
    output wire [15:0] rd_data_o
);

  SB_SPRAM256KA u_spram (
      .ADDRESS   (addr_i),
      .DATAIN    (wr_data_i),
      .MASKWREN  (mask_i),
      .WREN      (we_i),
      .CHIPSELECT(cs_i),
      .CLOCK     (clk_i),
      .STANDBY   (1'b0),
      .SLEEP     (1'b0),
      .POWEROFF  (1'b1),
      .DATAOUT   (rd_data_o)
  );

endmodule

`default_nettype wire
