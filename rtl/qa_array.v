// SPDX-License-Identifier: Apache-2.0
// qa_array: ROWS x COLS grid of qa_pe, output-stationary.
//
// Row i takes its operand a (and the beat flags) on a_i[i] at the left edge;
// column j takes its operand b on b_i[j] at the top edge. The caller applies
// the skew (row i delayed i cycles, column j delayed j cycles) so that PE(i,j)
// sees X[i,k] and W[k,j] together. res_o holds every PE's finished sum,
// row-major; row_done_o[i] is high for one enabled cycle when the `last` flag
// of a tile leaves row i, i.e. when all COLS sums of that row are in res_o.
// Everything advances only while en_i is high; there is no other
// backpressure inside the array.
`default_nettype none

module qa_array #(
    parameter integer ROWS   = 4,  // PE rows (output rows per tile)
    parameter integer COLS   = 4,  // PE columns (output columns per tile)
    parameter integer DATA_W = 8,  // operand width in bits
    parameter integer ACC_W  = 32  // accumulator width in bits
) (
    input  wire                          clk_i,
    input  wire                          rst_i,
    input  wire                          en_i,
    input  wire [ROWS*DATA_W-1:0]        a_i,
    input  wire [ROWS-1:0]               valid_i,
    input  wire [ROWS-1:0]               first_i,
    input  wire [ROWS-1:0]               last_i,
    input  wire [COLS*DATA_W-1:0]        b_i,
    output wire [ROWS*COLS*ACC_W-1:0]    res_o,
    output wire [ROWS-1:0]               row_done_o
);

  // Horizontal links: (COLS+1) per row; vertical links: (ROWS+1) per column.
  wire [DATA_W-1:0] a_w[0:ROWS-1][0:COLS];
  wire              v_w[0:ROWS-1][0:COLS];
  wire              f_w[0:ROWS-1][0:COLS];
  wire              l_w[0:ROWS-1][0:COLS];
  wire [DATA_W-1:0] b_w[0:ROWS][0:COLS-1];

  genvar i, j;
  generate
    for (i = 0; i < ROWS; i = i + 1) begin : g_row_edge
      assign a_w[i][0] = a_i[i*DATA_W+:DATA_W];
      assign v_w[i][0] = valid_i[i];
      assign f_w[i][0] = first_i[i];
      assign l_w[i][0] = last_i[i];
      assign row_done_o[i] = l_w[i][COLS];
    end
    for (j = 0; j < COLS; j = j + 1) begin : g_col_edge
      assign b_w[0][j] = b_i[j*DATA_W+:DATA_W];
    end
    for (i = 0; i < ROWS; i = i + 1) begin : g_row
      for (j = 0; j < COLS; j = j + 1) begin : g_col
        wire [DATA_W-1:0] b_out;
        qa_pe #(
            .DATA_W(DATA_W),
            .ACC_W (ACC_W)
        ) u_pe (
            .clk_i  (clk_i),
            .rst_i  (rst_i),
            .en_i   (en_i),
            .a_i    (a_w[i][j]),
            .valid_i(v_w[i][j]),
            .first_i(f_w[i][j]),
            .last_i (l_w[i][j]),
            .a_o    (a_w[i][j+1]),
            .valid_o(v_w[i][j+1]),
            .first_o(f_w[i][j+1]),
            .last_o (l_w[i][j+1]),
            .b_i    (b_w[i][j]),
            .b_o    (b_out),
            .res_o  (res_o[(i*COLS+j)*ACC_W+:ACC_W])
        );
        assign b_w[i+1][j] = b_out;
      end
    end
  endgenerate

endmodule

`default_nettype wire
