// SPDX-License-Identifier: Apache-2.0
// qa_por: power-on and button reset for a board shim.
//
// rst_o is high from configuration until the PLL has been locked for
// 2^CNT_W cycles of clk_i, and again while the (asynchronous, active-low)
// button is pressed or the PLL loses lock; it leaves reset synchronously.
// Relies on the FPGA's flip-flops starting at zero after configuration
// (iCE40 and ECP5 both clear them; the register initialisers say so).
`default_nettype none

module qa_por #(
    parameter integer CNT_W = 10  // log2 of the cycles reset is held after lock
) (
    input  wire clk_i,
    input  wire locked_i,  // PLL lock (asynchronous)
    input  wire btn_ni,    // reset button, active low (asynchronous)
    output wire rst_o
);

  reg [1:0] sync_q = 2'b00;  // (locked && button released), synchronised
  reg [CNT_W:0] cnt_q = {(CNT_W + 1) {1'b0}};

  always @(posedge clk_i) begin
    sync_q <= {sync_q[0], locked_i & btn_ni};
    if (!sync_q[1]) cnt_q <= {(CNT_W + 1) {1'b0}};
    else if (!cnt_q[CNT_W]) cnt_q <= cnt_q + 1'b1;
  end

  assign rst_o = !cnt_q[CNT_W];

endmodule

`default_nettype wire
