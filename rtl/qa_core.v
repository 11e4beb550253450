// SPDX-License-Identifier: Apache-2.0
// qa_core: the qarray accelerator core - command parser, double-buffered
// operand and parameter memories, tile sequencer, ROWS x COLS output-
// stationary array, COLS requantizers, result serializer, the write-back
// path and layer table that run whole networks on chip, and counters.
//
// Interface: byte-wide command stream s_cmd_* in, byte-wide response stream
// m_rsp_* out, both valid/ready with AXI-Stream rules (a byte moves when
// valid && ready; once valid is high, valid and data hold until accepted;
// valid never depends combinationally on ready). The command set (IDENT,
// LOAD_X, LOAD_W, LOAD_P, RUN, COUNTERS, CLEAR, LOAD_WA, LOAD_PA, NET_LOAD,
// NET_RUN) and the data layout are specified in docs/architecture.md.
// busy_o is high while a RUN or a network layer executes; error_o while the
// status word is non-zero.
//
// Verdict sideband: for every RUN and NET_RUN it executes, in command order,
// the core pulses verdict_valid_o for one clock with verdict_ok_o = 1 and
// verdict_bytes_o = the number of result bytes the command will send (for
// NET_RUN, its last layer's), or verdict_ok_o = 0 when it refused the
// command (status bit 2; no result bytes follow). A RUN's verdict comes when
// it starts or is refused; a NET_RUN's when its last layer starts or when a
// layer is refused (earlier layers have then run). The pulse comes before
// the command's first result byte, and after the last byte of a RUN or
// NET_RUN the parser takes no command byte before the clock of its verdict.
// verdict_bytes_o is meaningful only with verdict_valid_o && verdict_ok_o;
// its top bits are zero (48 bits cover every parameter set).
//
// One clock, synchronous active-high reset of control state only. The array,
// the skew registers, the buffer read ports and the requantizer pipeline
// share one enable, which drops only when the row FIFO in front of the
// response stream is full.
`default_nettype none

module qa_core #(
    parameter integer ROWS     = 4,         // PE rows (output rows per tile), 1..64
    parameter integer COLS     = 4,         // PE columns (output columns per tile), 1..64
    parameter integer DATA_W   = 8,         // operand and result width; the stream needs 8
    parameter integer ACC_W    = 32,        // accumulator bits, >= 2*DATA_W + clog2(K_MAX)
    // Memory defaults: the iCEBreaker's UP5K budget for a 4x4 array - W in the
    // four 32 KB SPRAMs (2 x 16384 words x 4 lanes = 128 KB), X and the
    // bias/shift groups in block RAM (2 x 1024 x 4 = 8 KB, 2 x 64 x 4 x 37 bits).
    parameter integer XB_DEPTH = 1024,      // X words (ROWS bytes each) per bank, power of two
    parameter integer WB_DEPTH = 16384,     // W words (COLS bytes each) per bank, power of two
    parameter integer PG_MAX   = 64,        // bias/shift column groups per bank, power of two
    parameter integer CLK_HZ   = 48000000,  // core clock the design is built for (reported)
    parameter integer NL_MAX   = 16,        // layers in the network table, 0..16; 0 = no
                                            // NET_LOAD / NET_RUN (the host runs networks
                                            // layer by layer; the iCE40's area budget)
    // Technology mapping (0 = generic, what the simulators use):
    parameter integer PE_PAIRS = 0,         // 1: array of qa_pe2 (SB_MAC16 dual 8x8), COLS even
    parameter integer W_SPRAM  = 0,         // 1: W lanes on single-port RAM (qa_wram_sp, UP5K
                                            //    SPRAM); W loads then wait while a RUN executes
    parameter integer PROD_REG = 0,         // 1: qa_pe products registered (ECP5 MULT18X18D)
    parameter integer RD_REG   = 0,         // 1: operand memory read data registered before
                                            //    the skew (a RUN takes one cycle longer), and
                                            //    the W and P write ports registered (a load's
                                            //    byte is written a clock later; ECP5 timing)
    parameter integer FIFO_BLOCK = 0        // 1: the descriptor and result FIFOs in block RAM
                                            //    (qa_fifo BLOCK; the iCE40)
) (
    input  wire       clk_i,
    input  wire       rst_i,
    // command stream
    input  wire [7:0] s_cmd_data_i,
    input  wire       s_cmd_valid_i,
    output wire       s_cmd_ready_o,
    // response stream
    output wire [7:0] m_rsp_data_o,
    output wire       m_rsp_valid_o,
    input  wire       m_rsp_ready_i,
    // status
    output wire       busy_o,
    output wire       error_o,
    // verdict on each RUN / NET_RUN (see above)
    output wire        verdict_valid_o,
    output wire        verdict_ok_o,
    output wire [47:0] verdict_bytes_o
);

  function integer clog2;
    input integer value;
    integer v;
    begin
      v = value - 1;
      clog2 = 0;
      while (v > 0) begin
        clog2 = clog2 + 1;
        v = v >> 1;
      end
    end
  endfunction

  localparam integer VERSION = 2;
  localparam integer K_MAX = (XB_DEPTH < WB_DEPTH) ? XB_DEPTH : WB_DEPTH;
  // The drain reads a finished tile's ROWS*COLS sums out of the PEs' output
  // registers one per cycle, through the one requantizer, each row through
  // its result chain; a row must be read before the next tile's sums reach
  // it, so consecutive tiles must be at least TILE_S enabled cycles apart:
  // TILE_N, plus COLS - ROWS when COLS > ROWS (see the drain below).
  localparam integer TILE_N = ROWS * COLS;  // sums per tile
  localparam integer TILE_S = TILE_N + ((COLS > ROWS) ? COLS - ROWS : 0);  // min tile spacing
  localparam integer XA_W = (XB_DEPTH > 1) ? clog2(XB_DEPTH) : 1;
  localparam integer WA_W = (WB_DEPTH > 1) ? clog2(WB_DEPTH) : 1;
  localparam integer PA_W = (PG_MAX > 1) ? clog2(PG_MAX) : 1;
  localparam integer RI_W = (ROWS > 1) ? clog2(ROWS) : 1;
  localparam integer CI_W = (COLS > 1) ? clog2(COLS) : 1;
  localparam integer P_W = 37;  // bias (32) + shift (5)
  // tile descriptor: write-back base (an X word), column group, valid rows, valid cols
  localparam integer DESC_W = XA_W + PA_W + 1 + 8 + 8;
  localparam integer TN_W = clog2(TILE_S + 1);  // pad counter
  // bounds-check products: XB_DEPTH and 2*WB_DEPTH fit in PB_W bits
  localparam integer PB_X = clog2(XB_DEPTH + 1);
  localparam integer PB_WW = clog2(2 * WB_DEPTH + 1);
  localparam integer PB_W = (PB_X > PB_WW) ? PB_X : PB_WW;
  localparam [31:0] XB_DEPTH32 = XB_DEPTH;
  localparam [31:0] W_END32 = 2 * WB_DEPTH;
  // column groups of an accepted RUN or layer: cg <= 2*PG_MAX and cg <= cg*k <= 2*WB_DEPTH
  localparam integer CG_MAX = (PG_MAX < WB_DEPTH) ? 2 * PG_MAX : 2 * WB_DEPTH;
  // result bytes of an accepted RUN or layer: at most (XB_DEPTH*ROWS) * (CG_MAX*COLS)
  localparam integer NRES_W = clog2(XB_DEPTH * ROWS + 1) + clog2(CG_MAX * COLS + 1);
  // the product rg*N (rg <= XB_DEPTH, N <= CG_MAX*COLS once accepted): exact in PN_W bits,
  // which also hold every bound it is compared with
  localparam integer PN_W0 = clog2(XB_DEPTH + 1) + clog2(CG_MAX * COLS + 1);
  localparam integer PN_W = (PN_W0 > PB_W) ? PN_W0 : PB_W;
  // the sequencer's counters: an accepted RUN or layer has rg*k <= XB_DEPTH, so rg and k
  // are at most XB_DEPTH, and cg is at most CG_MAX (and the descriptor takes PA_W+1 bits)
  localparam integer RG_W0 = clog2(XB_DEPTH + 1);
  localparam integer RG_W = (RG_W0 < 16) ? RG_W0 : 16;
  localparam integer CG_W0 = (clog2(CG_MAX + 1) > PA_W + 1) ? clog2(CG_MAX + 1) : PA_W + 1;
  localparam integer CG_W = (CG_W0 < 16) ? CG_W0 : 16;
  localparam integer TR_W = clog2(ROWS + 1);  // rows of a tile, 1..ROWS
  localparam integer TC_W = clog2(COLS + 1);  // columns of a tile, 1..COLS
  // result bytes leave through a byte FIFO; it only has to cover the
  // requantizer's latency and short pauses of the response stream
  localparam integer OUTQ_DEPTH = 16;

  // ---- elaboration checks ----------------------------------------------------
  generate
    if (DATA_W != 8) begin : g_bad_data_w
      qa_error_core_needs_data_w_8 u_error ();
    end
    if (ROWS < 1 || ROWS > 64 || COLS < 1 || COLS > 64) begin : g_bad_shape
      qa_error_core_rows_cols_out_of_range u_error ();
    end
    if (ACC_W < 2 * DATA_W + clog2(K_MAX)) begin : g_bad_acc_w
      qa_error_core_acc_w_too_small_for_k_max u_error ();
    end
    if (((XB_DEPTH & (XB_DEPTH - 1)) != 0) || ((WB_DEPTH & (WB_DEPTH - 1)) != 0) ||
        ((PG_MAX & (PG_MAX - 1)) != 0) || XB_DEPTH > 32768 || WB_DEPTH > 32768 ||
        PG_MAX > 32768) begin : g_bad_depth
      qa_error_core_depths_must_be_powers_of_two_up_to_32768 u_error ();
    end
    if (NL_MAX < 0 || NL_MAX > 16) begin : g_bad_nl_max
      qa_error_core_nl_max_out_of_range u_error ();
    end
    if (NRES_W > 48) begin : g_bad_nres  // (not reachable within the checks above)
      qa_error_core_result_count_wider_than_verdict_port u_error ();
    end
  endgenerate

  // ---- opcodes and status bits -------------------------------------------------
  localparam [3:0] OP_NOP = 4'h0;
  localparam [3:0] OP_IDENT = 4'h1;
  localparam [3:0] OP_LOAD_X = 4'h2;
  localparam [3:0] OP_LOAD_W = 4'h3;
  localparam [3:0] OP_LOAD_P = 4'h4;
  localparam [3:0] OP_RUN = 4'h5;
  localparam [3:0] OP_COUNTERS = 4'h6;
  localparam [3:0] OP_CLEAR = 4'h7;
  localparam [3:0] OP_LOAD_WA = 4'h8;
  localparam [3:0] OP_LOAD_PA = 4'h9;
  localparam [3:0] OP_NET_LOAD = 4'ha;
  localparam [3:0] OP_NET_RUN = 4'hb;
  localparam [3:0] OP_LAST = OP_NET_RUN;

  localparam integer ST_OPCODE = 0;
  localparam integer ST_LOAD_RANGE = 1;
  localparam integer ST_RUN_ARGS = 2;
  localparam integer ST_SHIFT = 3;

  localparam integer ND_BYTES = 12;  // bytes per layer descriptor

  // parser states
  localparam [3:0] P_OP = 4'd0;  // waiting for an opcode
  localparam [3:0] P_ARG = 4'd1;  // collecting argument bytes
  localparam [3:0] P_EXEC = 4'd2;  // waiting until the command may execute
  localparam [3:0] P_LOAD = 4'd3;  // receiving a load payload
  localparam [3:0] P_RESP = 4'd4;  // sending a response
  localparam [3:0] P_CHECK = 4'd5;  // RUN / layer: checking the buffer bounds
  localparam [3:0] P_FETCH = 4'd6;  // NET_RUN: reading the next layer descriptor

  // =========================================================================
  // Parser
  // =========================================================================
  reg [3:0] p_state_q;
  // the command's opcode, one-hot (bit n for opcode n; none for NOP or an
  // unknown opcode): every decode below is then a single bit (timing)
  reg [OP_LAST:0] op_q;
  reg [31:0] arg_q;  // the first 4 argument bytes, byte n at [8n +: 8] (RUN's
                     // bytes 4..12 go straight into the run request)
  reg [3:0] arg_idx_q;
  reg [3:0] arg_len;

  // load payload bookkeeping
  reg [15:0] ld_left_q;  // words (X/W), groups (P) or layers (NET) still to come
  reg [15:0] ld_word_q;  // current word, group or layer index
  reg [6:0] ld_lane_q;  // byte lane (X/W), column (P) or descriptor byte (NET)
  reg [2:0] ld_byte_q;  // byte within a column's 5 parameter bytes (P)
  reg [31:0] ld_bias_q;  // bias bytes collected so far (P)

  // The run request checked in P_CHECK and started in P_EXEC: filled from a
  // RUN command's arguments or from a layer descriptor of the network table.
  reg rq_xbank_q;
  reg [15:0] rq_wbase_q, rq_pbase_q, rq_rg_q, rq_cg_q, rq_k_q;
  reg [7:0] rq_lrows_q, rq_lcols_q, rq_round_q, rq_lo_q, rq_hi_q;
  reg rq_wb_q;  // write the results into the other X bank
  // cg * COLS as shifted adds of the constant's bits (no multiplier block)
  reg [31:0] rq_cg_cols;
  integer cb;
  always @(*) begin
    rq_cg_cols = 32'd0;
    for (cb = 0; cb < 7; cb = cb + 1)
      if (((COLS >> cb) & 1) != 0) rq_cg_cols = rq_cg_cols + ({16'd0, rq_cg_q} << cb);
  end
  wire [31:0] rq_n = rq_cg_cols - (COLS - {24'd0, rq_lcols_q});  // output columns

  // bounds check: products by shift-add, one bit of rg and cg per cycle
  // (rg*k, cg*k, rg*N). rg*k and cg*k are kept to PB_W bits, enough for every
  // bound they are compared with, rg*N (the write-back's bound) to PN_W bits;
  // a sticky *_big_q bit says a value did not fit. The
  // products restart in the first cycle of P_CHECK and then hold until the
  // next check (the RUN's W range is taken from prod_w when it starts).
  reg mul_loaded_q;
  reg [15:0] mul_rg_q, mul_cg_q;
  reg [PB_W-1:0] mul_k_q, prod_x_q, prod_w_q;
  reg [PN_W-1:0] mul_n_q, prod_n_q;
  reg mul_k_big_q, mul_n_big_q, prod_x_big_q, prod_w_big_q, prod_n_big_q;
  wire [PB_W:0] prod_x_sum = {1'b0, prod_x_q} + {1'b0, mul_k_q};
  wire [PB_W:0] prod_w_sum = {1'b0, prod_w_q} + {1'b0, mul_k_q};
  wire [PN_W:0] prod_n_sum = {1'b0, prod_n_q} + {1'b0, mul_n_q};
  wire [63:0] rq_k64 = {48'd0, rq_k_q};
  wire [63:0] rq_n64 = {32'd0, rq_n};
  wire [63:0] prod_x64 = {{(64 - PB_W) {1'b0}}, prod_x_q};
  wire [63:0] prod_w64 = {{(64 - PB_W) {1'b0}}, prod_w_q};
  wire [63:0] prod_n64 = {{(64 - PN_W) {1'b0}}, prod_n_q};

  // The check's outcome, latched when the products are complete (P_EXEC,
  // which may wait for a RUN still executing, uses these), and the result
  // bytes of the request: rows * N, rows = rg*ROWS - (ROWS - last_rows), a
  // fourth product of the same shift-add loop, one bit of rows per cycle
  // (exact for every accepted request: rows <= XB_DEPTH*ROWS fits RW bits
  // and the product NRES_W; what it holds for a refused one is never used).
  reg rq_ok_q;
  reg [NRES_W-1:0] rq_nres_q;
  localparam integer RW = clog2(XB_DEPTH * ROWS + 1);
  reg [31:0] rq_rg_rows;  // rg * ROWS as shifted adds of the constant's bits
  integer gb;
  always @(*) begin
    rq_rg_rows = 32'd0;
    for (gb = 0; gb < 7; gb = gb + 1)
      if (((ROWS >> gb) & 1) != 0) rq_rg_rows = rq_rg_rows + ({16'd0, rq_rg_q} << gb);
  end
  wire [31:0] rq_rows = rq_rg_rows - (ROWS - {24'd0, rq_lrows_q});  // output rows
  reg [RW-1:0] mul_r_q;
  reg [NRES_W-1:0] mul_nr_q, prod_r_q;
  wire [NRES_W-1:0] rq_nres = prod_r_q;

  // verdict sideband (see the header)
  reg vd_valid_q, vd_ok_q;

  // network table and NET_RUN state
  reg [4:0] net_n_q;  // layers in the table (0 = none loaded)
  // (a constant 0 without a table, so that synthesis drops the descriptor
  // fetch and the write-back path whatever its register optimisation)
  wire [4:0] net_n = (NL_MAX != 0) ? net_n_q : 5'd0;
  reg [4:0] net_l_q;  // layer being fetched / started
  reg net_xbank_q;
  reg [15:0] net_rg_q;
  reg [7:0] net_lrows_q;
  reg [4:0] nf_idx_q;  // descriptor byte being fetched (read data lags one cycle)
  wire [7:0] nt_rd_data;

  // response byte index (IDENT and COUNTERS are read in place: nothing
  // changes them while the parser sends them, see P_RESP)
  reg [4:0] rsp_idx_q;

  // counters and status
  reg [31:0] cnt_busy_q, cnt_macs_q, cnt_stall_q, cnt_sat_q;
  reg [3:0] status_q;

  // engine state visible to the parser
  reg run_active_q;
  reg run_xbank_q, run_wb_q;
  // write-back only with a table (a constant 0 without one, as net_n)
  wire rq_wb = (NL_MAX != 0) && rq_wb_q;
  wire run_wb = (NL_MAX != 0) && run_wb_q;
  reg [16:0] run_wbase_q, run_wend_q, run_pbase_q, run_pend_q;
  wire outq_valid;

  wire cmd_fire = s_cmd_valid_i && s_cmd_ready_o;
  wire [7:0] cmd_byte = s_cmd_data_i;

  assign s_cmd_ready_o = (p_state_q == P_OP) || (p_state_q == P_ARG) || (p_state_q == P_LOAD);

  always @(*) begin
    if (op_q[OP_LOAD_X] || op_q[OP_LOAD_W] || op_q[OP_LOAD_P]) arg_len = 4'd3;
    else if (op_q[OP_LOAD_WA] || op_q[OP_LOAD_PA] || op_q[OP_NET_RUN]) arg_len = 4'd4;
    else if (op_q[OP_NET_LOAD]) arg_len = 4'd1;
    else if (op_q[OP_RUN]) arg_len = 4'd13;
    else arg_len = 4'd0;
  end

  // argument fields
  wire arg_bank = arg_q[0];
  wire [15:0] arg_count3 = arg_q[23:8];  // count of a 3-byte load header
  wire [15:0] arg_addr4 = arg_q[15:0];  // address of a 4-byte load header
  wire [15:0] arg_count4 = arg_q[31:16];  // count of a 4-byte load header
  wire is_load3 = op_q[OP_LOAD_X] || op_q[OP_LOAD_W] || op_q[OP_LOAD_P];
  wire is_wload = op_q[OP_LOAD_W] || op_q[OP_LOAD_WA];
  wire is_pload = op_q[OP_LOAD_P] || op_q[OP_LOAD_PA];
  wire [15:0] ld_count = is_load3 ? arg_count3 : op_q[OP_NET_LOAD] ? {8'd0, arg_q[7:0]} :
      arg_count4;
  // first word (W) or group (P) of the load in the flat memories
  wire [16:0] ld_base = op_q[OP_LOAD_W] ? ({16'd0, arg_bank} << WA_W) :
      op_q[OP_LOAD_P] ? ({16'd0, arg_bank} << PA_W) : {1'b0, arg_addr4};
  wire [16:0] ld_end = ld_base + {1'b0, ld_count};
  // the W/P load range and the X/NET count checks, registered (timing):
  // every load spends a first cycle in P_EXEC (ex_first_q) while these take
  // the command's values, and P_LOAD's addresses use ld_base_q
  reg [16:0] ld_base_q, ld_end_q;
  reg ld_cnt_big_q, ld_cnt_zero_q;  // count beyond X depth (LOAD_X) / NL_MAX; count 0
  reg ex_first_q;
  always @(posedge clk_i) begin
    ld_base_q  <= ld_base;
    ld_end_q   <= ld_end;
    ld_cnt_big_q <= op_q[OP_LOAD_X] ? ({16'd0, ld_count} > XB_DEPTH) :
        ({16'd0, ld_count} > NL_MAX);
    ld_cnt_zero_q <= (ld_count == 16'd0);
    ex_first_q <= (p_state_q != P_EXEC);
  end

  // P_EXEC decides in one cycle (exec_ok) and acts in the next (exec_go_q,
  // registered: timing). What exec_ok waits for cannot come back in between:
  // only the parser itself starts a RUN (run_start, on exec_go_q), and with
  // no RUN active no result can enter the output queue.
  wire out_idle = !run_active_q && !outq_valid;
  reg exec_ok;
  always @(*) begin
    if (op_q[OP_IDENT] || op_q[OP_COUNTERS] || op_q[OP_CLEAR]) exec_ok = out_idle;
    // one write port per X lane: no load while results are written back
    else if (op_q[OP_LOAD_X])
      exec_ok = !ex_first_q && !(run_active_q && (run_wb || (run_xbank_q == arg_bank)));
    else if (op_q[OP_NET_LOAD]) exec_ok = !ex_first_q;
    else if (is_wload)
      exec_ok = !ex_first_q && !(run_active_q && ((W_SPRAM != 0) ||
          ((ld_base_q < run_wend_q) && (ld_end_q > run_wbase_q))));
    else if (is_pload)
      exec_ok = !ex_first_q &&
          !(run_active_q && (ld_base_q < run_pend_q) && (ld_end_q > run_pbase_q));
    else if (op_q[OP_RUN] || op_q[OP_NET_RUN]) exec_ok = !run_active_q;
    else exec_ok = 1'b1;
  end
  reg exec_go_q;  // P_EXEC's action cycle (the state is still P_EXEC)
  always @(posedge clk_i) begin
    if (rst_i) exec_go_q <= 1'b0;
    else exec_go_q <= (p_state_q == P_EXEC) && !exec_go_q && exec_ok;
  end

  // done when the multipliers' bits are used up; mul_z_q says so in the
  // clock their last bit is shifted out (registered: timing; 0 as they load,
  // so that all-zero operands take one clock, in which nothing is added)
  reg mul_z_q;
  wire mul_done = mul_loaded_q && mul_z_q;
  wire rq_ok = (rq_k_q != 16'd0) && (rq_rg_q != 16'd0) && (rq_cg_q != 16'd0) &&
      !prod_x_big_q && (prod_x64 <= {32'd0, XB_DEPTH32}) &&
      !prod_w_big_q && ({48'd0, rq_wbase_q} + prod_w64 <= {32'd0, W_END32}) &&
      ({16'd0, rq_pbase_q} + {16'd0, rq_cg_q} <= 2 * PG_MAX) &&
      (rq_lrows_q != 8'd0) && ({24'd0, rq_lrows_q} <= ROWS) &&
      (rq_lcols_q != 8'd0) && ({24'd0, rq_lcols_q} <= COLS) &&
      (rq_round_q <= 8'd3) && ($signed(rq_lo_q) <= $signed(rq_hi_q)) &&
      (!rq_wb || (!prod_n_big_q && (prod_n64 <= {32'd0, XB_DEPTH32})));

  // IDENT response
  wire [159:0] ident_bytes = {
    CLK_HZ[31:0],
    K_MAX[15:0],
    PG_MAX[15:0],
    WB_DEPTH[15:0],
    XB_DEPTH[15:0],
    NL_MAX[7:0],
    ACC_W[7:0],
    DATA_W[7:0],
    COLS[7:0],
    ROWS[7:0],
    VERSION[7:0],
    8'h41,  // 'A'
    8'h51  // 'Q'
  };

  // load write ports (addresses in the flat memories; out of range dropped)
  wire [16:0] ld_addr = ld_base_q + {1'b0, ld_word_q};
  wire in_load = (p_state_q == P_LOAD) && cmd_fire;
  wire ld_x_we = in_load && op_q[OP_LOAD_X] && ({16'd0, ld_word_q} < XB_DEPTH);
  wire ld_w_we = in_load && is_wload && ({15'd0, ld_addr} < 2 * WB_DEPTH);
  wire ld_p_we = in_load && is_pload && (ld_byte_q == 3'd4) && ({15'd0, ld_addr} < 2 * PG_MAX);
  localparam [31:0] NL_MAX32 = NL_MAX;
  wire ld_n_we = in_load && op_q[OP_NET_LOAD] && (NL_MAX != 0) &&
      ({16'd0, ld_word_q} < NL_MAX32);
  wire [XA_W:0] ld_x_addr = {arg_bank, ld_word_q[XA_W-1:0]};
  wire [WA_W:0] ld_w_addr = ld_addr[WA_W:0];
  wire [PA_W:0] ld_p_addr = ld_addr[PA_W:0];

  wire [4:0] ld_shift = (cmd_byte > 8'd31) ? 5'd31 : cmd_byte[4:0];
  wire [P_W-1:0] ld_p_data = {ld_shift, ld_bias_q};

  // the W and P memories' write ports, a register stage later with RD_REG
  // (timing: the load address's adder and range check then end at a flip-
  // flop, not at the block RAM's write enable). Nothing reads a word in the
  // clock after its load writes it: a RUN that reads it starts only after
  // the parser has taken the RUN's 13 argument bytes.
  wire w_we, p_we;
  wire [6:0] w_lane;
  wire [WA_W:0] w_waddr;
  wire [PA_W:0] p_waddr;
  wire [CI_W-1:0] p_lane;
  wire [DATA_W-1:0] w_wdata;
  wire [P_W-1:0] p_wdata;
  generate
    if (RD_REG != 0) begin : g_wr_reg
      reg w_we_q, p_we_q;
      reg [6:0] w_lane_q;
      reg [WA_W:0] w_waddr_q;
      reg [PA_W:0] p_waddr_q;
      reg [CI_W-1:0] p_lane_q;
      reg [DATA_W-1:0] w_wdata_q;
      reg [P_W-1:0] p_wdata_q;
      always @(posedge clk_i) begin
        if (rst_i) begin
          w_we_q <= 1'b0;
          p_we_q <= 1'b0;
        end else begin
          w_we_q <= ld_w_we;
          p_we_q <= ld_p_we;
        end
        w_lane_q  <= ld_lane_q;
        w_waddr_q <= ld_w_addr;
        p_waddr_q <= ld_p_addr;
        p_lane_q  <= ld_lane_q[CI_W-1:0];
        w_wdata_q <= cmd_byte;
        p_wdata_q <= ld_p_data;
      end
      assign w_we = w_we_q;
      assign p_we = p_we_q;
      assign w_lane = w_lane_q;
      assign w_waddr = w_waddr_q;
      assign p_waddr = p_waddr_q;
      assign p_lane = p_lane_q;
      assign w_wdata = w_wdata_q;
      assign p_wdata = p_wdata_q;
    end else begin : g_wr_now
      assign w_we = ld_w_we;
      assign p_we = ld_p_we;
      assign w_lane = ld_lane_q;
      assign w_waddr = ld_w_addr;
      assign p_waddr = ld_p_addr;
      assign p_lane = ld_lane_q[CI_W-1:0];
      assign w_wdata = cmd_byte;
      assign p_wdata = ld_p_data;
    end
  endgenerate
  wire [6:0] ld_lanes = op_q[OP_LOAD_X] ? ROWS[6:0] :
      op_q[OP_NET_LOAD] ? ND_BYTES[6:0] : COLS[6:0];
  wire ld_last_lane = is_pload ? (ld_byte_q == 3'd4 && ld_lane_q == COLS[6:0] - 7'd1) :
      (ld_lane_q == ld_lanes - 7'd1);
  wire ld_range_bad = is_wload ? ({15'd0, ld_end_q} > 2 * WB_DEPTH) :
      is_pload ? ({15'd0, ld_end_q} > 2 * PG_MAX) : ld_cnt_big_q;
  // registered (timing): valid from P_EXEC's third cycle, before the
  // earliest exec_go_q (ld_end_q and ld_cnt_big_q are valid from its second)
  reg ld_range_bad_q;
  always @(posedge clk_i) ld_range_bad_q <= ld_range_bad;

  // network table: NL_MAX descriptors of ND_BYTES, 16-byte stride
  wire [8:0] nt_wr_addr = {ld_word_q[4:0], ld_lane_q[3:0]};
  wire [8:0] nt_rd_addr = {net_l_q, nf_idx_q[3:0]};
  qa_ram #(
      .WIDTH (8),
      .DEPTH (512),
      .ADDR_W(9)
  ) u_net_table (
      .clk_i    (clk_i),
      .wr_en_i  (ld_n_we),
      .wr_addr_i(nt_wr_addr),
      .wr_data_i(cmd_byte),
      .rd_en_i  (1'b1),
      .rd_addr_i(nt_rd_addr),
      .rd_data_o(nt_rd_data)
  );

  // engine start request
  wire run_start = exec_go_q && (op_q[OP_RUN] || op_q[OP_NET_RUN]) && rq_ok_q;
  wire net_more = (NL_MAX != 0) && (net_l_q + 5'd1 < net_n_q);

  // verdicts: a RUN started or refused, a NET_RUN's last layer started, a
  // layer refused, or NET_RUN with no table
  wire vd_no_table = (p_state_q == P_FETCH) && (net_n == 5'd0);
  wire vd_exec = exec_go_q &&
      (op_q[OP_RUN] || (op_q[OP_NET_RUN] && (!rq_ok_q || !net_more)));
  always @(posedge clk_i) begin
    if (rst_i) vd_valid_q <= 1'b0;
    else vd_valid_q <= vd_no_table || vd_exec;
    vd_ok_q <= !vd_no_table && rq_ok_q;
  end
  assign verdict_valid_o = vd_valid_q;
  assign verdict_ok_o = vd_ok_q;
  assign verdict_bytes_o = {{(48 - NRES_W) {1'b0}}, rq_nres_q};

  always @(posedge clk_i) begin
    if (rst_i) begin
      p_state_q <= P_OP;
      arg_idx_q <= 4'd0;
      status_q  <= 4'd0;
      rsp_idx_q <= 5'd0;
      op_q      <= {(OP_LAST + 1) {1'b0}};
      net_n_q   <= 5'd0;
    end else begin
      case (p_state_q)
        P_OP: begin
          if (cmd_fire) begin
            op_q <= (cmd_byte > {4'd0, OP_LAST}) ? {(OP_LAST + 1) {1'b0}} :
                {{OP_LAST{1'b0}}, 1'b1} << cmd_byte[3:0];
            arg_idx_q <= 4'd0;
            if (cmd_byte > {4'd0, OP_LAST}) status_q[ST_OPCODE] <= 1'b1;
            else if (cmd_byte[3:0] == OP_IDENT || cmd_byte[3:0] == OP_COUNTERS ||
                     cmd_byte[3:0] == OP_CLEAR)
              p_state_q <= P_EXEC;
            else if (cmd_byte[3:0] != OP_NOP) p_state_q <= P_ARG;
          end
        end
        P_ARG: begin
          if (cmd_fire) begin
            if (arg_idx_q < 4'd4) arg_q[arg_idx_q[1:0]*8+:8] <= cmd_byte;
            arg_idx_q <= arg_idx_q + 4'd1;
            if (arg_idx_q == arg_len - 4'd1)
              p_state_q <= op_q[OP_RUN] ? P_CHECK : op_q[OP_NET_RUN] ? P_FETCH : P_EXEC;
          end
        end
        P_FETCH: begin
          // descriptor bytes 0..11 arrive one cycle after their address
          if (net_n == 5'd0) begin
            status_q[ST_RUN_ARGS] <= 1'b1;
            p_state_q <= P_OP;
          end else if (nf_idx_q == ND_BYTES[4:0]) p_state_q <= P_CHECK;
        end
        P_CHECK: begin
          if (mul_done) p_state_q <= P_EXEC;
        end
        P_EXEC: begin
          if (exec_go_q) begin
            if (op_q[OP_IDENT] || op_q[OP_COUNTERS]) begin
              rsp_idx_q <= 5'd0;
              p_state_q <= P_RESP;
            end else if (op_q[OP_CLEAR]) begin
              status_q  <= 4'd0;
              p_state_q <= P_OP;
            end else if (op_q[OP_RUN]) begin
              if (!rq_ok_q) status_q[ST_RUN_ARGS] <= 1'b1;
              p_state_q <= P_OP;
            end else if (op_q[OP_NET_RUN]) begin
              if (!rq_ok_q) begin
                status_q[ST_RUN_ARGS] <= 1'b1;
                p_state_q <= P_OP;
              end else begin
                p_state_q <= net_more ? P_FETCH : P_OP;
              end
            end else begin  // the loads
              if (ld_range_bad_q) status_q[ST_LOAD_RANGE] <= 1'b1;
              // (NL_MAX 0: every NET_LOAD but an empty one is out of
              // range, and net_n is 0)
              if (op_q[OP_NET_LOAD])
                net_n_q <= ld_range_bad_q ? 5'd0 : ld_count[4:0];
              p_state_q <= ld_cnt_zero_q ? P_OP : P_LOAD;
            end
          end
        end
        P_LOAD: begin
          if (cmd_fire) begin
            if (is_pload && ld_byte_q == 3'd4 && cmd_byte > 8'd31) status_q[ST_SHIFT] <= 1'b1;
            if (ld_left_q == 16'd1 && ld_last_lane) p_state_q <= P_OP;
          end
        end
        P_RESP: begin
          if (m_rsp_ready_i) begin
            rsp_idx_q <= rsp_idx_q + 5'd1;
            if (rsp_idx_q == 5'd19) p_state_q <= P_OP;
          end
        end
        default: p_state_q <= P_OP;
      endcase
    end
  end

  // load counters (data path, not reset: initialised when a load starts)
  always @(posedge clk_i) begin
    if (p_state_q == P_EXEC) begin
      ld_left_q <= ld_count;
      ld_word_q <= 16'd0;
      ld_lane_q <= 7'd0;
      ld_byte_q <= 3'd0;
    end else if (in_load) begin
      if (is_pload && ld_byte_q != 3'd4) begin
        ld_bias_q[ld_byte_q*8+:8] <= cmd_byte;
        ld_byte_q <= ld_byte_q + 3'd1;
      end else begin
        ld_byte_q <= 3'd0;
        if (ld_last_lane) begin
          ld_lane_q <= 7'd0;
          ld_word_q <= ld_word_q + 16'd1;
          ld_left_q <= ld_left_q - 16'd1;
        end else begin
          ld_lane_q <= ld_lane_q + 7'd1;
        end
      end
    end
  end

  // run request: from RUN arguments, or from a layer descriptor
  //   descriptor: wbase (2), pbase (2), cg (2), k (2), last_cols, round, lo, hi
  always @(posedge clk_i) begin
    if (p_state_q == P_ARG && cmd_fire && arg_idx_q == arg_len - 4'd1) begin
      if (op_q[OP_RUN]) begin
        // RUN: xbank, wbank, rg (2), cg (2), k (2), last_rows, last_cols, round, lo, hi
        rq_xbank_q <= arg_q[0];
        rq_wbase_q <= {15'd0, arg_q[8]} << WA_W;
        rq_pbase_q <= {15'd0, arg_q[8]} << PA_W;
        rq_rg_q    <= arg_q[31:16];
        rq_hi_q    <= cmd_byte;
        rq_wb_q    <= 1'b0;
      end else if (op_q[OP_NET_RUN]) begin
        // NET_RUN: xbank, rg (2), last_rows
        net_xbank_q <= arg_q[0];
        net_rg_q    <= arg_q[23:8];
        net_lrows_q <= cmd_byte;
        net_l_q     <= 5'd0;
      end
    end else if (exec_go_q && op_q[OP_NET_RUN] && rq_ok_q) begin
      net_l_q <= net_l_q + 5'd1;
    end
    // RUN argument bytes 4..11, as they arrive (12 is hi, above)
    if (p_state_q == P_ARG && cmd_fire && op_q[OP_RUN]) begin
      case (arg_idx_q)
        4'd4: rq_cg_q[7:0] <= cmd_byte;
        4'd5: rq_cg_q[15:8] <= cmd_byte;
        4'd6: rq_k_q[7:0] <= cmd_byte;
        4'd7: rq_k_q[15:8] <= cmd_byte;
        4'd8: rq_lrows_q <= cmd_byte;
        4'd9: rq_lcols_q <= cmd_byte;
        4'd10: rq_round_q <= cmd_byte;
        4'd11: rq_lo_q <= cmd_byte;
        default: ;
      endcase
    end
    if (p_state_q == P_FETCH) begin
      nf_idx_q <= nf_idx_q + 5'd1;
      rq_xbank_q <= net_xbank_q ^ net_l_q[0];
      rq_rg_q <= net_rg_q;
      rq_lrows_q <= net_lrows_q;
      rq_wb_q <= net_more;
      case (nf_idx_q)
        5'd1: rq_wbase_q[7:0] <= nt_rd_data;
        5'd2: rq_wbase_q[15:8] <= nt_rd_data;
        5'd3: rq_pbase_q[7:0] <= nt_rd_data;
        5'd4: rq_pbase_q[15:8] <= nt_rd_data;
        5'd5: rq_cg_q[7:0] <= nt_rd_data;
        5'd6: rq_cg_q[15:8] <= nt_rd_data;
        5'd7: rq_k_q[7:0] <= nt_rd_data;
        5'd8: rq_k_q[15:8] <= nt_rd_data;
        5'd9: rq_lcols_q <= nt_rd_data;
        5'd10: rq_round_q <= nt_rd_data;
        5'd11: rq_lo_q <= nt_rd_data;
        5'd12: rq_hi_q <= nt_rd_data;
        default: ;
      endcase
    end else begin
      nf_idx_q <= 5'd0;
    end
  end

  always @(posedge clk_i) begin
    if (p_state_q != P_CHECK) begin
      mul_loaded_q <= 1'b0;
    end else if (!mul_loaded_q) begin
      mul_loaded_q <= 1'b1;
      mul_z_q <= 1'b0;
      mul_rg_q <= rq_rg_q;
      mul_cg_q <= rq_cg_q;
      mul_k_q <= rq_k64[PB_W-1:0];
      mul_n_q <= rq_n64[PN_W-1:0];
      mul_k_big_q <= ((rq_k64 >> PB_W) != 64'd0);
      mul_n_big_q <= ((rq_n64 >> PN_W) != 64'd0);
      prod_x_q <= {PB_W{1'b0}};
      prod_w_q <= {PB_W{1'b0}};
      prod_n_q <= {PN_W{1'b0}};
      prod_x_big_q <= 1'b0;
      prod_w_big_q <= 1'b0;
      prod_n_big_q <= 1'b0;
      mul_r_q <= rq_rows[RW-1:0];
      mul_nr_q <= rq_n[NRES_W-1:0];
      prod_r_q <= {NRES_W{1'b0}};
    end else if (mul_done) begin
      rq_ok_q   <= rq_ok;
      rq_nres_q <= rq_nres;
    end else begin
      if (mul_rg_q[0]) begin
        prod_x_q <= prod_x_sum[PB_W-1:0];
        prod_n_q <= prod_n_sum[PN_W-1:0];
        if (prod_x_sum[PB_W] || mul_k_big_q) prod_x_big_q <= 1'b1;
        if (prod_n_sum[PN_W] || mul_n_big_q) prod_n_big_q <= 1'b1;
      end
      if (mul_cg_q[0]) begin
        prod_w_q <= prod_w_sum[PB_W-1:0];
        if (prod_w_sum[PB_W] || mul_k_big_q) prod_w_big_q <= 1'b1;
      end
      if (mul_r_q[0]) prod_r_q <= prod_r_q + mul_nr_q;
      mul_r_q <= mul_r_q >> 1;
      mul_nr_q <= mul_nr_q << 1;
      mul_rg_q <= mul_rg_q >> 1;
      mul_cg_q <= mul_cg_q >> 1;
      mul_k_q <= mul_k_q << 1;
      mul_n_q <= mul_n_q << 1;
      if (mul_k_q[PB_W-1]) mul_k_big_q <= 1'b1;
      if (mul_n_q[PN_W-1]) mul_n_big_q <= 1'b1;
      mul_z_q <= (mul_rg_q[15:1] == 15'd0) && (mul_cg_q[15:1] == 15'd0) &&
          ((mul_r_q >> 1) == {RW{1'b0}});
    end
  end

  // =========================================================================
  // Buffers
  // =========================================================================
  wire en;  // global enable of the compute pipeline
  wire [ROWS-1:0] wb_we;  // write-back ports of the X lanes (see below)
  wire [ROWS*(XA_W+1)-1:0] wb_addr;
  wire [ROWS*DATA_W-1:0] wb_data;
  wire [XA_W:0] x_rd_addr;
  wire [WA_W:0] w_rd_addr;
  wire [ROWS*DATA_W-1:0] x_rd_data;
  wire [COLS*DATA_W-1:0] w_rd_data;

  genvar gi, gj;
  generate
    for (gi = 0; gi < ROWS; gi = gi + 1) begin : g_xbuf
      qa_ram #(
          .WIDTH (DATA_W),
          .DEPTH (2 * XB_DEPTH),
          .ADDR_W(XA_W + 1)
      ) u_ram (
          .clk_i    (clk_i),
          .wr_en_i  (wb_we[gi] || (ld_x_we && (ld_lane_q == gi))),
          .wr_addr_i(wb_we[gi] ? wb_addr[gi*(XA_W+1)+:XA_W+1] : ld_x_addr),
          .wr_data_i(wb_we[gi] ? wb_data[gi*DATA_W+:DATA_W] : cmd_byte),
          .rd_en_i  (en),
          .rd_addr_i(x_rd_addr),
          .rd_data_o(x_rd_data[gi*DATA_W+:DATA_W])
      );
    end
    for (gj = 0; gj < COLS; gj = gj + 1) begin : g_wbuf
      if (W_SPRAM != 0) begin : g_sp
        qa_wram_sp #(
            .WIDTH (DATA_W),
            .DEPTH (2 * WB_DEPTH),
            .ADDR_W(WA_W + 1)
        ) u_ram (
            .clk_i    (clk_i),
            .wr_en_i  (w_we && (w_lane == gj)),
            .wr_any_i (w_we),
            .wr_addr_i(w_waddr),
            .wr_data_i(w_wdata),
            .rd_en_i  (en),
            .rd_addr_i(w_rd_addr),
            .rd_data_o(w_rd_data[gj*DATA_W+:DATA_W])
        );
      end else begin : g_dp
      qa_ram #(
          .WIDTH (DATA_W),
          .DEPTH (2 * WB_DEPTH),
          .ADDR_W(WA_W + 1)
      ) u_ram (
          .clk_i    (clk_i),
          .wr_en_i  (w_we && (w_lane == gj)),
          .wr_addr_i(w_waddr),
          .wr_data_i(w_wdata),
          .rd_en_i  (en),
          .rd_addr_i(w_rd_addr),
          .rd_data_o(w_rd_data[gj*DATA_W+:DATA_W])
      );
      end
    end
  endgenerate

  // =========================================================================
  // Sequencer: walks the tiles of a RUN and issues one beat per enabled cycle
  // =========================================================================
  reg [RG_W-1:0] run_k_q;
  reg run_k1_q, run_cg1_q;  // k == 1, cg == 1
  reg [XA_W-1:0] run_n_q;  // output columns, modulo the X bank (write-back addresses)
  reg [7:0] run_lrows_q, run_lcols_q;
  reg [1:0] run_round_q;
  reg [7:0] run_lo_q, run_hi_q;

  reg issuing_q;  // beats of this RUN remain to be issued
  reg [RG_W-1:0] ri_q, kk_q;  // row group, beat
  reg [CG_W-1:0] ci_q;  // column group
  reg [XA_W-1:0] xbase_q;  // ri*k (< XB_DEPTH while issuing)
  reg [WA_W:0] wbase_q;  // ci*k (< 2*WB_DEPTH while issuing)
  localparam [RG_W:0] RG_TWO = 2;
  localparam [CG_W:0] CG_TWO = 2;
  wire [31:0] run_k32 = {{(32 - RG_W) {1'b0}}, run_k_q};
  // ri*n and ci*COLS: where a tile's results go (write-back), modulo the X
  // bank, which is all the write-back uses (its bounds check passed)
  reg [XA_W-1:0] obase_q, ocol_q;
  reg [TN_W-1:0] pad_q;  // bubbles still to insert after a short tile
  // Registered facts for the issue decision (timing: beat_go enables about a
  // hundred flip-flops every cycle, so it is one LUT of flip-flops): pad_q is
  // zero; kk_q is zero; the pad after a tile (TILE_S - k, 0 when k >= TILE_S);
  // k, cg and rg less 2 (RG_W+1 / CG_W+1 bits: all ones above bit RG_W-1
  // when the value is below 2), compared with kk_q, ci_q and ri_q for the
  // last-beat, last-column and last-row flags
  reg pad_zero_q, kk_zero_q;
  reg [TN_W-1:0] run_pad_q;
  reg [RG_W:0] run_km2_q, run_rgm2_q;
  reg [CG_W:0] run_cgm2_q;

  wire desc_full;
  wire desc_empty;
  wire drain_busy;

  // last row group / column group / beat of the RUN: registered flags,
  // updated with the counters (timing: no subtract-and-compare in front of
  // the sequencer's enables)
  reg last_ri_q, last_ci_q, last_kk_q;
  wire last_ri = last_ri_q;
  wire last_ci = last_ci_q;
  wire [7:0] tile_rows = last_ri ? run_lrows_q : ROWS[7:0];
  wire [7:0] tile_cols = last_ci ? run_lcols_q : COLS[7:0];
  // (tile_rows <= ROWS and tile_cols <= COLS: the RUN checks passed)
  wire [TR_W-1:0] tile_rows_n = tile_rows[TR_W-1:0];
  wire [TC_W-1:0] tile_cols_n = tile_cols[TC_W-1:0];
  // rows * cols of the tile as shifted adds (a small product; no multiplier block)
  reg [TR_W+TC_W-1:0] tile_macs;
  integer tb;
  always @(*) begin
    tile_macs = {(TR_W + TC_W) {1'b0}};
    for (tb = 0; tb < TR_W; tb = tb + 1)
      if (tile_rows_n[tb]) tile_macs = tile_macs + ({{TR_W{1'b0}}, tile_cols_n} << tb);
  end

  wire beat_first = kk_zero_q;
  wire beat_last = last_kk_q;
  // a tile starts only when its descriptor will find room
  wire beat_go = issuing_q && pad_zero_q && !(beat_first && desc_full);
  wire [XA_W-1:0] x_word = xbase_q + kk_q[XA_W-1:0];
  wire [16:0] w_word = run_wbase_q + {{(16 - WA_W) {1'b0}}, wbase_q} +
      {{(17 - RG_W) {1'b0}}, kk_q};
  assign x_rd_addr = {run_xbank_q, x_word[XA_W-1:0]};
  assign w_rd_addr = w_word[WA_W:0];

  wire desc_push = en && beat_go && beat_last;
  wire [XA_W-1:0] tile_obase = obase_q + ocol_q;
  wire [DESC_W-1:0] desc_in = {tile_obase, ci_q[PA_W:0], tile_rows, tile_cols};

  always @(posedge clk_i) begin
    if (rst_i) begin
      run_active_q <= 1'b0;
      issuing_q <= 1'b0;
      pad_q <= {TN_W{1'b0}};
      pad_zero_q <= 1'b1;
    end else if (run_start) begin
      run_active_q <= 1'b1;
      issuing_q <= 1'b1;
      pad_q <= {TN_W{1'b0}};
      pad_zero_q <= 1'b1;
    end else begin
      if (en) begin
        if (!pad_zero_q) begin
          pad_q <= pad_q - 1'b1;
          pad_zero_q <= (pad_q == {{(TN_W - 1) {1'b0}}, 1'b1});
        end else if (beat_go && beat_last) begin
          pad_q <= run_pad_q;
          pad_zero_q <= (run_pad_q == {TN_W{1'b0}});
          if (last_ri && last_ci) issuing_q <= 1'b0;
        end
      end
      if (run_active_q && !issuing_q && desc_empty && !drain_busy)
        run_active_q <= 1'b0;
    end
  end

  always @(posedge clk_i) begin
    if (run_start) begin
      run_xbank_q <= rq_xbank_q;
      run_wb_q    <= rq_wb_q;
      run_wbase_q <= {1'b0, rq_wbase_q};
      run_wend_q  <= {1'b0, rq_wbase_q} + prod_w64[16:0];
      run_pbase_q <= {1'b0, rq_pbase_q};
      run_pend_q  <= {1'b0, rq_pbase_q} + {1'b0, rq_cg_q};
      run_k_q     <= rq_k_q[RG_W-1:0];
      run_k1_q    <= (rq_k_q == 16'd1);
      run_cg1_q   <= (rq_cg_q == 16'd1);
      run_n_q     <= rq_n[XA_W-1:0];
      run_lrows_q <= rq_lrows_q;
      run_lcols_q <= rq_lcols_q;
      run_round_q <= rq_round_q[1:0];
      run_lo_q    <= rq_lo_q;
      run_hi_q    <= rq_hi_q;
      ri_q        <= {RG_W{1'b0}};
      ci_q        <= {CG_W{1'b0}};
      kk_q        <= {RG_W{1'b0}};
      kk_zero_q   <= 1'b1;
      run_pad_q   <= ({16'd0, rq_k_q} < TILE_S) ? TILE_S[TN_W-1:0] - rq_k_q[TN_W-1:0] :
                                                  {TN_W{1'b0}};
      run_km2_q   <= {1'b0, rq_k_q[RG_W-1:0]} - RG_TWO;
      run_rgm2_q  <= {1'b0, rq_rg_q[RG_W-1:0]} - RG_TWO;
      run_cgm2_q  <= {1'b0, rq_cg_q[CG_W-1:0]} - CG_TWO;
      last_ri_q   <= (rq_rg_q == 16'd1);
      last_ci_q   <= (rq_cg_q == 16'd1);
      last_kk_q   <= (rq_k_q == 16'd1);
      xbase_q     <= {XA_W{1'b0}};
      wbase_q     <= {(WA_W + 1) {1'b0}};
      obase_q     <= {XA_W{1'b0}};
      ocol_q      <= {XA_W{1'b0}};
    end else if (en && beat_go) begin
      kk_zero_q <= beat_last;
      if (!beat_last) begin
        kk_q <= kk_q + 1'b1;
        last_kk_q <= ({1'b0, kk_q} == run_km2_q);
      end else begin
        kk_q <= {RG_W{1'b0}};
        last_kk_q <= run_k1_q;
        if (last_ci) begin
          ci_q    <= {CG_W{1'b0}};
          last_ci_q <= run_cg1_q;
          last_ri_q <= ({1'b0, ri_q} == run_rgm2_q);
          wbase_q <= {(WA_W + 1) {1'b0}};
          ocol_q  <= {XA_W{1'b0}};
          ri_q    <= ri_q + 1'b1;
          xbase_q <= xbase_q + run_k32[XA_W-1:0];
          obase_q <= obase_q + run_n_q;
        end else begin
          ci_q    <= ci_q + 1'b1;
          last_ci_q <= ({1'b0, ci_q} == run_cgm2_q);
          wbase_q <= wbase_q + run_k32[WA_W:0];
          ocol_q  <= ocol_q + COLS[XA_W-1:0];
        end
      end
    end
  end

  // beat flags, aligned with the buffer read data (one cycle)
  reg beat_valid_q, beat_first_q, beat_last_q;
  always @(posedge clk_i) begin
    if (rst_i) begin
      beat_valid_q <= 1'b0;
      beat_first_q <= 1'b0;
      beat_last_q  <= 1'b0;
    end else if (en) begin
      beat_valid_q <= beat_go;
      beat_first_q <= beat_go && beat_first;
      beat_last_q  <= beat_go && beat_last;
    end
  end

  // =========================================================================
  // Skew: row i delayed i cycles, column j delayed j cycles
  // =========================================================================
  wire [ROWS*DATA_W-1:0] arr_a;
  wire [ROWS-1:0] arr_valid, arr_first, arr_last;
  wire [COLS*DATA_W-1:0] arr_b;

  // the operands and beat flags entering the skew: as read, or (RD_REG) one
  // enabled cycle later, so that a memory's read path and the multipliers
  // are in separate cycles
  wire [ROWS*DATA_W-1:0] x_op;
  wire [COLS*DATA_W-1:0] w_op;
  wire op_valid, op_first, op_last;
  generate
    if (RD_REG != 0) begin : g_rd_reg
      reg [ROWS*DATA_W-1:0] x_q;
      reg [COLS*DATA_W-1:0] w_q;
      reg v_q, f_q, l_q;
      always @(posedge clk_i) begin
        if (rst_i) begin
          v_q <= 1'b0;
          f_q <= 1'b0;
          l_q <= 1'b0;
        end else if (en) begin
          v_q <= beat_valid_q;
          f_q <= beat_first_q;
          l_q <= beat_last_q;
        end
      end
      always @(posedge clk_i) begin
        if (en) begin
          x_q <= x_rd_data;
          w_q <= w_rd_data;
        end
      end
      assign x_op = x_q;
      assign w_op = w_q;
      assign op_valid = v_q;
      assign op_first = f_q;
      assign op_last = l_q;
    end else begin : g_rd_direct
      assign x_op = x_rd_data;
      assign w_op = w_rd_data;
      assign op_valid = beat_valid_q;
      assign op_first = beat_first_q;
      assign op_last = beat_last_q;
    end
  endgenerate

  generate
    // (PE_PAIRS: the array takes its operands broadcast, without skew)
    for (gi = 0; gi < ROWS; gi = gi + 1) begin : g_skew_row
      if (gi == 0 || PE_PAIRS != 0) begin : g_direct
        assign arr_a[gi*DATA_W+:DATA_W] = x_op[gi*DATA_W+:DATA_W];
        assign arr_valid[gi] = op_valid;
        assign arr_first[gi] = op_first;
        assign arr_last[gi] = op_last;
      end else begin : g_delay
        reg [DATA_W-1:0] a_sr[0:gi-1];
        reg v_sr[0:gi-1];
        reg f_sr[0:gi-1];
        reg l_sr[0:gi-1];
        integer s;
        always @(posedge clk_i) begin
          if (rst_i) begin
            for (s = 0; s < gi; s = s + 1) begin
              v_sr[s] <= 1'b0;
              f_sr[s] <= 1'b0;
              l_sr[s] <= 1'b0;
            end
          end else if (en) begin
            v_sr[0] <= op_valid;
            f_sr[0] <= op_first;
            l_sr[0] <= op_last;
            for (s = 1; s < gi; s = s + 1) begin
              v_sr[s] <= v_sr[s-1];
              f_sr[s] <= f_sr[s-1];
              l_sr[s] <= l_sr[s-1];
            end
          end
        end
        always @(posedge clk_i) begin
          if (en) begin
            a_sr[0] <= x_op[gi*DATA_W+:DATA_W];
            for (s = 1; s < gi; s = s + 1) a_sr[s] <= a_sr[s-1];
          end
        end
        assign arr_a[gi*DATA_W+:DATA_W] = a_sr[gi-1];
        assign arr_valid[gi] = v_sr[gi-1];
        assign arr_first[gi] = f_sr[gi-1];
        assign arr_last[gi] = l_sr[gi-1];
      end
    end
    for (gj = 0; gj < COLS; gj = gj + 1) begin : g_skew_col
      if (gj == 0 || PE_PAIRS != 0) begin : g_direct
        assign arr_b[gj*DATA_W+:DATA_W] = w_op[gj*DATA_W+:DATA_W];
      end else begin : g_delay
        reg [DATA_W-1:0] b_sr[0:gj-1];
        integer s;
        always @(posedge clk_i) begin
          if (en) begin
            b_sr[0] <= w_op[gj*DATA_W+:DATA_W];
            for (s = 1; s < gj; s = s + 1) b_sr[s] <= b_sr[s-1];
          end
        end
        assign arr_b[gj*DATA_W+:DATA_W] = b_sr[gj-1];
      end
    end
  endgenerate

  // =========================================================================
  // Array
  // =========================================================================
  wire [ROWS*COLS*ACC_W-1:0] res;
  wire [ROWS-1:0] row_done;
  wire [ROWS-1:0] arr_shift;  // shift row i's result chain (a drain read of row i)

  qa_array #(
      .ROWS  (ROWS),
      .COLS  (COLS),
      .DATA_W(DATA_W),
      .ACC_W (ACC_W),
      .PE_PAIRS(PE_PAIRS),
      .PROD_REG(PROD_REG)
  ) u_array (
      .clk_i     (clk_i),
      .rst_i     (rst_i),
      .en_i      (en),
      .a_i       (arr_a),
      .valid_i   (arr_valid),
      .first_i   (arr_first),
      .last_i    (arr_last),
      .b_i       (arr_b),
      .shift_i   (arr_shift),
      .res_o     (res),
      .row_done_o(row_done)
  );

  // =========================================================================
  // Tile descriptors: pushed when a tile's last beat issues, popped when its
  // last row is drained
  // =========================================================================
  wire [DESC_W-1:0] desc_head;
  wire desc_valid;
  wire [3:0] desc_count;
  wire desc_pop = en && row_done[0];
  wire desc_in_ready;

  qa_fifo #(
      .WIDTH(DESC_W),
      .DEPTH(8),
      .CNT_W(4),
      .BLOCK(FIFO_BLOCK),
      .READY_REG(1)  // a flip-flop: the sequencer's issue decision uses it
  ) u_desc (
      .clk_i    (clk_i),
      .rst_i    (rst_i),
      .s_data_i (desc_in),
      .s_valid_i(desc_push),
      .s_ready_o(desc_in_ready),
      .m_data_o (desc_head),
      .m_valid_o(desc_valid),
      .m_ready_i(desc_pop),
      .count_o  (desc_count)
  );
  assign desc_full  = !desc_in_ready;
  assign desc_empty = !desc_valid;

  wire [XA_W-1:0] head_obase = desc_head[DESC_W-1-:XA_W];
  wire [PA_W:0] head_cg = desc_head[16+:PA_W+1];
  wire [7:0] head_rows = desc_head[15:8];
  wire [7:0] head_cols = desc_head[7:0];

  // =========================================================================
  // Drain: when row 0 of a tile is done, read its ROWS*COLS sums out of the
  // PEs' output registers, row by row, one per enabled cycle: sum (i,j) in
  // cycle i*COLS+j of the drain, at the head of row i's result chain, which
  // shifts once per read of that row (qa_array). Element (0,0) is read in
  // the cycle row 0 is done, with the descriptor at the head of the queue.
  // Row i is complete by its first read (it is done i cycles after row 0).
  // Its chain must hold still, apart from the shifts, until its last read,
  // cycle i*COLS+COLS-1: the next tile's sum reaches PE(i,j) (systolic
  // array) in cycle TILE_S - COLS + i + j of this drain, at the earliest
  // (consecutive tiles are TILE_S cycles apart; the sequencer pads short
  // tiles), which is after that read for every i and j exactly when
  // TILE_S >= TILE_N + COLS - ROWS. (The PE-pair array finishes all rows at
  // once, TILE_S - 1 cycles after the drain started, also after the reads.)
  // =========================================================================
  reg dr_busy_q;  // reading a tile (elements 1 .. TILE_N-1)
  reg [RI_W-1:0] dr_i_q;
  reg [CI_W-1:0] dr_j_q;
  reg [7:0] dr_rows_q, dr_cols_q;
  reg [PA_W:0] dr_cg_q;  // column group (< 2*PG_MAX)
  reg [XA_W-1:0] dr_obase_q;

  wire dr_start = row_done[0];  // (cycle with en; see desc_pop)
  wire [RI_W-1:0] dr_i = dr_start ? {RI_W{1'b0}} : dr_i_q;
  wire [CI_W-1:0] dr_j = dr_start ? {CI_W{1'b0}} : dr_j_q;
  wire [7:0] dr_rows = dr_start ? head_rows : dr_rows_q;
  wire [7:0] dr_cols = dr_start ? head_cols : dr_cols_q;
  wire [PA_W:0] dr_cg = dr_start ? head_cg : dr_cg_q;
  wire [XA_W-1:0] dr_obase = dr_start ? head_obase : dr_obase_q;
  wire dr_read = dr_start || dr_busy_q;
  genvar gs;
  generate
    for (gs = 0; gs < ROWS; gs = gs + 1) begin : g_shift
      assign arr_shift[gs] = en && dr_read && (dr_i == gs);
    end
  endgenerate
  wire dr_last_j = (dr_j == COLS[CI_W-1:0] - 1'b1) || (COLS == 1);
  wire dr_last = dr_last_j && ((dr_i == ROWS[RI_W-1:0] - 1'b1) || (ROWS == 1));
  wire dr_valid = dr_read && ({{(8 - RI_W) {1'b0}}, dr_i} < dr_rows) &&
      ({{(8 - CI_W) {1'b0}}, dr_j} < dr_cols);

  always @(posedge clk_i) begin
    if (rst_i) begin
      dr_busy_q <= 1'b0;
    end else if (en && dr_read) begin
      dr_busy_q <= !dr_last;
    end
  end
  always @(posedge clk_i) begin
    if (en && dr_read) begin
      dr_i_q <= dr_last_j ? dr_i + 1'b1 : dr_i;
      dr_j_q <= dr_last_j ? {CI_W{1'b0}} : dr_j + 1'b1;
      dr_rows_q <= dr_rows;
      dr_cols_q <= dr_cols;
      dr_cg_q <= dr_cg;
      dr_obase_q <= dr_obase;
    end
  end

  // the sum read: the head of row dr_i's result chain, as an AND-OR of
  // one-hot terms (a variable part-select would build a shifter when ACC_W
  // is not a power of two)
  reg [ACC_W-1:0] dr_sum;
  integer e;
  always @(*) begin
    dr_sum = {ACC_W{1'b0}};
    for (e = 0; e < ROWS; e = e + 1)
      if ({{(32 - RI_W) {1'b0}}, dr_i} == e) dr_sum = dr_sum | res[e*COLS*ACC_W+:ACC_W];
  end

  // drain stage 0: the selected sum, its column's bias/shift (one RAM:
  // group g, column j at {g, j}) and where it goes
  reg d0_valid_q;
  reg [ACC_W-1:0] d0_acc_q;
  reg [RI_W-1:0] d0_row_q;
  reg [XA_W-1:0] d0_addr_q;
  wire [15:0] d0_addr = {{(16 - XA_W) {1'b0}}, dr_obase} + {{(16 - CI_W) {1'b0}}, dr_j};
  always @(posedge clk_i) begin
    if (rst_i) d0_valid_q <= 1'b0;
    else if (en) d0_valid_q <= dr_valid;
  end
  always @(posedge clk_i) begin
    if (en) begin
      d0_acc_q  <= dr_sum;
      d0_row_q  <= dr_i;
      d0_addr_q <= d0_addr[XA_W-1:0];
    end
  end

  wire [P_W-1:0] prm;
  wire [16:0] p_group = run_pbase_q + {{(16 - PA_W) {1'b0}}, dr_cg};
  wire [PA_W+CI_W:0] p_rd_addr;
  wire [PA_W+CI_W:0] p_wr_addr;
  generate
    if (COLS > 1) begin : g_paddr
      assign p_rd_addr = {p_group[PA_W:0], dr_j};
      assign p_wr_addr = {p_waddr, p_lane};
    end else begin : g_paddr1
      assign p_rd_addr = {p_group[PA_W:0], 1'b0};
      assign p_wr_addr = {p_waddr, 1'b0};
    end
  endgenerate
  qa_ram #(
      .WIDTH (P_W),
      .DEPTH (2 * PG_MAX * (1 << CI_W)),
      .ADDR_W(PA_W + 1 + CI_W)
  ) u_pbuf (
      .clk_i    (clk_i),
      .wr_en_i  (p_we),
      .wr_addr_i(p_wr_addr),
      .wr_data_i(p_wdata),
      .rd_en_i  (en),
      .rd_addr_i(p_rd_addr),
      .rd_data_o(prm)
  );

  // =========================================================================
  // Drain stages 1-4: the requantizer, then the byte FIFO or the write-back
  // =========================================================================
  wire rq_valid;
  wire [DATA_W-1:0] rq_y;
  wire rq_sat;
  wire rq_busy;

  qa_requant #(
      .ACC_W (ACC_W),
      .DATA_W(DATA_W)
  ) u_requant (
      .clk_i  (clk_i),
      .rst_i  (rst_i),
      .en_i   (en),
      .valid_i(d0_valid_q),
      .acc_i  (d0_acc_q),
      .bias_i (prm[31:0]),
      .shift_i(prm[32+:5]),
      .round_i(run_round_q),
      .lo_i   (run_lo_q),
      .hi_i   (run_hi_q),
      .valid_o(rq_valid),
      .y_o    (rq_y),
      .sat_o  (rq_sat),
      .busy_o (rq_busy)
  );

  // lane and X address travel beside the requantizer (4 stages)
  reg [RI_W-1:0] d1_row_q, d2_row_q, d3_row_q, d4_row_q;
  reg [XA_W-1:0] d1_addr_q, d2_addr_q, d3_addr_q, d4_addr_q;
  always @(posedge clk_i) begin
    if (en) begin
      d1_row_q  <= d0_row_q;
      d2_row_q  <= d1_row_q;
      d3_row_q  <= d2_row_q;
      d4_row_q  <= d3_row_q;
      d1_addr_q <= d0_addr_q;
      d2_addr_q <= d1_addr_q;
      d3_addr_q <= d2_addr_q;
      d4_addr_q <= d3_addr_q;
    end
  end

  // outputs in the drain that have not reached the FIFO or the X memory yet
  assign drain_busy = dr_busy_q || d0_valid_q || rq_busy;

  wire outq_in_ready;
  wire [DATA_W-1:0] outq_head;
  wire [clog2(OUTQ_DEPTH):0] outq_count;
  wire outq_pop;

  // a flip-flop (READY_REG; the same value, cycle for cycle): it reaches every PE
  assign en = outq_in_ready;

  qa_fifo #(
      .WIDTH(DATA_W),
      .DEPTH(OUTQ_DEPTH),
      .CNT_W(clog2(OUTQ_DEPTH) + 1),
      .BLOCK(FIFO_BLOCK),
      .READY_REG(1)
  ) u_outq (
      .clk_i    (clk_i),
      .rst_i    (rst_i),
      .s_data_i (rq_y),
      .s_valid_i(rq_valid && !run_wb),
      .s_ready_o(outq_in_ready),
      .m_data_o (outq_head),
      .m_valid_o(outq_valid),
      .m_ready_i(outq_pop),
      .count_o  (outq_count)
  );

  // =========================================================================
  // Write-back (RUN of a network layer that is not the last): result (i,j)
  // of a tile goes to lane i of the other X bank at word obase + j, where
  // obase = r*N + c*COLS is the next layer's X layout (N = this layer's
  // output columns = the next layer's K); one byte per cycle, as it leaves
  // the requantizer.
  // =========================================================================
  wire wb_fire = rq_valid && run_wb && en;
  generate
    for (gi = 0; gi < ROWS; gi = gi + 1) begin : g_wb
      assign wb_we[gi] = wb_fire && (d4_row_q == gi);
      assign wb_addr[gi*(XA_W+1)+:XA_W+1] = {~run_xbank_q, d4_addr_q};
      assign wb_data[gi*DATA_W+:DATA_W] = rq_y;
    end
  endgenerate

  // =========================================================================
  // Response mux: parser responses, else the result bytes
  // =========================================================================
  // IDENT's bytes are constants; COUNTERS' are read from the counters and the
  // status word themselves, which hold still while they are sent: P_EXEC
  // starts both only with no RUN active and no result left (out_idle), no
  // RUN can start before the parser is back in P_OP, and only the parser
  // changes the status word
  wire rsp_from_parser = (p_state_q == P_RESP);
  wire [159:0] cnt_bytes = {{28'd0, status_q}, cnt_sat_q, cnt_stall_q, cnt_macs_q, cnt_busy_q};
  wire [159:0] rsp_bytes = op_q[OP_IDENT] ? ident_bytes : cnt_bytes;
  assign m_rsp_valid_o = rsp_from_parser ? 1'b1 : outq_valid;
  // the byte to send, a cycle ahead (timing): the first when P_RESP starts,
  // and the one after it, so that taking a byte only moves them on
  wire [191:0] rsp_pad = {32'd0, rsp_bytes};  // (indices up to 21)
  wire [4:0] rsp_idx_p2 = rsp_idx_q + 5'd2;
  reg [7:0] rsp_byte_q, rsp_byte2_q;
  always @(posedge clk_i) begin
    if (!rsp_from_parser) begin
      rsp_byte_q  <= rsp_pad[7:0];
      rsp_byte2_q <= rsp_pad[15:8];
    end else if (m_rsp_ready_i) begin
      rsp_byte_q  <= rsp_byte2_q;
      rsp_byte2_q <= rsp_pad[rsp_idx_p2*8+:8];
    end
  end
  assign m_rsp_data_o = rsp_from_parser ? rsp_byte_q : outq_head;
  assign outq_pop = !rsp_from_parser && m_rsp_ready_i;

  // =========================================================================
  // Counters (the MAC count a cycle after its beat: timing)
  // =========================================================================
  reg [TR_W+TC_W-1:0] macs_inc_q;
  always @(posedge clk_i) begin
    if (rst_i) macs_inc_q <= {(TR_W + TC_W) {1'b0}};
    else macs_inc_q <= (en && beat_go) ? tile_macs : {(TR_W + TC_W) {1'b0}};
  end
  always @(posedge clk_i) begin
    if (rst_i || (exec_go_q && op_q[OP_CLEAR])) begin
      cnt_busy_q  <= 32'd0;
      cnt_macs_q  <= 32'd0;
      cnt_stall_q <= 32'd0;
      cnt_sat_q   <= 32'd0;
    end else begin
      if (run_active_q) cnt_busy_q <= cnt_busy_q + 32'd1;
      if (run_active_q && !en) cnt_stall_q <= cnt_stall_q + 32'd1;
      cnt_macs_q <= cnt_macs_q + {{(32 - TR_W - TC_W) {1'b0}}, macs_inc_q};
      if (rq_valid && rq_sat && en) cnt_sat_q <= cnt_sat_q + 32'd1;
    end
  end

  assign busy_o  = run_active_q;
  assign error_o = |status_q;

  // unused bits: kept for clarity of the field layout
  wire unused_ok = &{1'b0, row_done, desc_count, outq_count, arg_q, x_word, w_word, p_group, d0_addr,
                     p_lane, rq_round_q, rq_n, rq_rows, prod_x64, prod_w64, prod_n64, rq_k64, rq_n64,
                     ld_addr, run_k32};

endmodule

`default_nettype wire
