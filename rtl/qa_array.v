// SPDX-License-Identifier: Apache-2.0
// qa_array: ROWS x COLS grid of qa_pe, output-stationary.
//
// Row i takes its operand a (and the beat flags) on a_i[i] at the left edge;
// column j takes its operand b on b_i[j] at the top edge. The caller applies
// the skew (row i delayed i cycles, column j delayed j cycles) so that PE(i,j)
// sees X[i,k] and W[k,j] together. res_o holds every PE's finished sum,
// row-major; row_done_o[i] is high for one enabled cycle when the `last` flag
// of a tile leaves row i, i.e. when all COLS sums of that row are in res_o.
// The output registers of each row form a shift chain towards column 0: on
// an enabled clock with shift_i[i] high, each PE of row i that is not taking
// a new sum takes its right neighbour's (the last one zero), so the caller
// can read the row at its head, res_o element (i,0), one sum per shift,
// column 0 first. A new sum takes precedence over a shift, so the caller
// must finish reading a row before the next tile's sums arrive there.
// Everything advances only while en_i is high; there is no other
// backpressure inside the array.
// PE_PAIRS = 1 builds each row from qa_pe2 (two columns per multiplier block,
// products registered: the iCE40UP5K's SB_MAC16 in dual 8x8 mode; COLS must
// be even). The operands are then broadcast, not passed from PE to PE: the
// caller applies no skew, every PE takes beat k in the same cycle, all rows
// finish together, and row_done_o (all bits equal) rises three enabled
// cycles after a tile's last beat entered, when res_o holds its sums.
// PROD_REG = 1 (with PE_PAIRS = 0) registers each qa_pe's product (a
// multiplier block's output register on the ECP5): res_o and row_done_o
// come one cycle later, as with PE_PAIRS = 1.
`default_nettype none

module qa_array #(
    parameter integer ROWS   = 4,  // PE rows (output rows per tile)
    parameter integer COLS   = 4,  // PE columns (output columns per tile)
    parameter integer DATA_W = 8,  // operand width in bits
    parameter integer ACC_W  = 32, // accumulator width in bits
    parameter integer PE_PAIRS = 0, // 0: one qa_pe per PE; 1: one qa_pe2 per two columns
    parameter integer PROD_REG = 0  // 1: qa_pe products registered (PE_PAIRS = 0)
) (
    input  wire                          clk_i,
    input  wire                          rst_i,
    input  wire                          en_i,
    input  wire [ROWS*DATA_W-1:0]        a_i,
    input  wire [ROWS-1:0]               valid_i,
    input  wire [ROWS-1:0]               first_i,
    input  wire [ROWS-1:0]               last_i,
    input  wire [COLS*DATA_W-1:0]        b_i,
    input  wire [ROWS-1:0]               shift_i,  // shift row i's result chain
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
    end
    for (j = 0; j < COLS; j = j + 1) begin : g_col_edge
      assign b_w[0][j] = b_i[j*DATA_W+:DATA_W];
    end
    if (PE_PAIRS != 0) begin : g_pairs
      if (COLS % 2 != 0) begin : g_bad_cols
        qa_error_array_pe_pairs_need_even_cols u_error ();
      end
      // broadcast: every pair of row i takes a_i[i] and the row's flags,
      // every pair of column j takes b_i[j], all in the same cycle (no skew;
      // the systolic links are not used). All rows finish together.
      for (i = 0; i < ROWS; i = i + 1) begin : g_row
        wire [COLS/2-1:0] done;  // all equal: the first pair's is used
        assign row_done_o[i] = done[0];
        wire unused_done = &{1'b0, done};
        for (j = 0; j < COLS; j = j + 2) begin : g_col
          // the element after this pair in the row's chain
          wire [ACC_W-1:0] chain;
          if (j + 2 < COLS) begin : g_next
            assign chain = res_o[(i*COLS+j+2)*ACC_W+:ACC_W];
          end else begin : g_end
            assign chain = {ACC_W{1'b0}};
          end
          qa_pe2 #(
              .DATA_W(DATA_W),
              .ACC_W (ACC_W)
          ) u_pe2 (
              .clk_i  (clk_i),
              .rst_i  (rst_i),
              .en_i   (en_i),
              .a_i    (a_w[i][0]),
              .valid_i(v_w[i][0]),
              .first_i(f_w[i][0]),
              .last_i (l_w[i][0]),
              .b0_i   (b_w[0][j]),
              .b1_i   (b_w[0][j+1]),
              .shift_i(shift_i[i]),
              .chain_i(chain),
              .res0_o (res_o[(i*COLS+j)*ACC_W+:ACC_W]),
              .res1_o (res_o[(i*COLS+j+1)*ACC_W+:ACC_W]),
              .done_o (done[j/2])
          );
        end
        for (j = 1; j <= COLS; j = j + 1) begin : g_unused_a
          assign a_w[i][j] = {DATA_W{1'b0}};
          assign v_w[i][j] = 1'b0;
          assign f_w[i][j] = 1'b0;
          assign l_w[i][j] = 1'b0;
        end
      end
      for (j = 0; j < COLS; j = j + 1) begin : g_unused_b
        for (i = 1; i <= ROWS; i = i + 1) begin : g_row
          assign b_w[i][j] = {DATA_W{1'b0}};
        end
      end
    end else begin : g_single
      for (i = 0; i < ROWS; i = i + 1) begin : g_done
        if (PROD_REG != 0) begin : g_late
          reg done_q;
          always @(posedge clk_i) begin
            if (rst_i) done_q <= 1'b0;
            else if (en_i) done_q <= l_w[i][COLS];
          end
          assign row_done_o[i] = done_q;
        end else begin : g_now
          assign row_done_o[i] = l_w[i][COLS];
        end
      end
      for (i = 0; i < ROWS; i = i + 1) begin : g_row
        for (j = 0; j < COLS; j = j + 1) begin : g_col
          wire [DATA_W-1:0] b_out;
          // the element after this PE in the row's chain
          wire [ACC_W-1:0] chain;
          if (j + 1 < COLS) begin : g_next
            assign chain = res_o[(i*COLS+j+1)*ACC_W+:ACC_W];
          end else begin : g_end
            assign chain = {ACC_W{1'b0}};
          end
          qa_pe #(
              .DATA_W  (DATA_W),
              .ACC_W   (ACC_W),
              .PROD_REG(PROD_REG)
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
              .shift_i(shift_i[i]),
              .chain_i(chain),
              .res_o  (res_o[(i*COLS+j)*ACC_W+:ACC_W])
          );
          assign b_w[i+1][j] = b_out;
        end
      end
    end
  endgenerate

endmodule

`default_nettype wire
