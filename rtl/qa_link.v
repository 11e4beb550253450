// SPDX-License-Identifier: Apache-2.0
// qa_link: the framed wire protocol (docs/protocol.md) between a UART and the
// core's command and response streams.
//
// Receive path: UART bytes -> FIFO -> COBS decoder -> frame parser. The parser
// writes each frame's payload into a receive buffer as it arrives, checks the
// CRC, the length and the sequence number when the frame is complete, and then
// either keeps the payload and queues the frame, or drops the payload and
// queues an error response. Nothing reaches the core before its frame checked
// good. A partial frame times out after TIMEOUT_CYCLES without a byte. The
// receive CRC (qa_crc32) takes a bit per clock, 9 clocks a byte, the
// transmit CRC 4 bits, 3 clocks a byte; the parser and the framer wait for
// them (a UART byte takes 40 or more clocks at the fastest divider).
//
// Forwarder: takes the queued frames in order, checks them against the core's
// command grammar (version 2: sizes, loads spread over several frames), sends
// the good ones to the core (m_cmd_*) and queues one response descriptor per
// frame. RUN and NET_RUN go to the core like the other commands; the core
// checks their arguments and answers each with a verdict on the sideband
// s_vd_* (qa_core's verdict_*_o): accepted with the number of result bytes,
// or refused (no bytes follow). The core takes no command byte between the
// end of a RUN or NET_RUN and its verdict, so the forwarder, which has
// nothing to send meanwhile, waits for it and puts it in that frame's
// response descriptor (the result count, or status BAD_ARG; no queue of
// verdicts is needed). Loads go to the core as they are; a load beyond a
// memory's end shows in the core's status word, exactly as on the raw
// command stream.
//
// Transmit path: the framer turns response descriptors into response frames,
// taking the IDENT, COUNTERS, RUN and NET_RUN bytes from the core (s_rsp_*),
// appending the link's part of IDENT and splitting long results into frames
// of MAX_PAYLOAD bytes; then COBS encoder -> FIFO -> UART. Responses leave in
// the order the frames arrived.
//
// A RESET frame acts as soon as it checks good: the receive buffer, both
// queues, the forwarder, the framer and the transmit FIFO are flushed and the
// core is reset (core_rst_o) for FLUSH_CYCLES clocks; then RESET is answered.
//
// All streams are valid/ready with AXI-Stream rules. ROWS, COLS, XB_DEPTH,
// WB_DEPTH and PG_MAX must equal the core's (they size the load counts and
// the result count). error_o pulses for a clock when a frame is answered with
// a status other than OK.
`default_nettype none

module qa_link #(
    parameter integer ROWS           = 4,         // the core's PE rows
    parameter integer COLS           = 4,         // the core's PE columns
    parameter integer XB_DEPTH       = 1024,      // the core's X words per bank
    parameter integer WB_DEPTH       = 16384,     // the core's W words per bank
    parameter integer PG_MAX         = 64,        // the core's parameter groups per bank
    parameter integer BAUD           = 12000000,  // line rate, reported by IDENT
    parameter integer MAX_PAYLOAD    = 1024,      // largest frame payload, 64..65535
    parameter integer RXBUF_BYTES    = 4096,      // receive buffer, power of two >= MAX_PAYLOAD
    parameter integer RXQ_DEPTH      = 8,         // frame queue, power of two 4..128
    parameter integer TIMEOUT_CYCLES = 480000,    // partial-frame timeout in clocks, >= 64
    parameter integer FIFO_BLOCK     = 0          // 1: the link's FIFOs in block RAM
                                                  // (qa_fifo BLOCK; the iCE40)
) (
    input  wire       clk_i,
    input  wire       rst_i,
    // from the UART receiver
    input  wire [7:0] s_rx_data_i,
    input  wire       s_rx_err_i,     // the byte had a framing error
    input  wire       s_rx_valid_i,
    output wire       s_rx_ready_o,
    // to the UART transmitter
    output wire [7:0] m_tx_data_o,
    output wire       m_tx_valid_o,
    input  wire       m_tx_ready_i,
    // to the core's command stream
    output wire [7:0] m_cmd_data_o,
    output wire       m_cmd_valid_o,
    input  wire       m_cmd_ready_i,
    // from the core's response stream
    input  wire [7:0] s_rsp_data_i,
    input  wire       s_rsp_valid_i,
    output wire       s_rsp_ready_o,
    // the core's verdict on each RUN and NET_RUN (a pulse; qa_core's verdict_*_o)
    input  wire        s_vd_valid_i,
    input  wire        s_vd_ok_i,     // accepted (else refused: no result bytes)
    input  wire [47:0] s_vd_bytes_i,  // result bytes of an accepted one
    // control and status
    output wire       core_rst_o,     // reset for the core
    output wire       rx_active_o,    // a frame is being received
    output wire       tx_active_o,    // a response is being sent
    output wire       idle_o,         // nothing in flight: no byte, frame or response
    output reg        error_o         // pulse: a frame was answered with an error
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

  localparam integer PROTO_VERSION = 1;
  localparam integer MAX_FRAMES = RXQ_DEPTH - 1;  // one queue slot kept for an error
  localparam integer RB_W = clog2(RXBUF_BYTES);  // receive buffer address bits
  // column groups of an accepted RUN or layer: cg <= 2*PG_MAX and cg*k <= 2*WB_DEPTH
  localparam integer CG_MAX = (PG_MAX < WB_DEPTH) ? 2 * PG_MAX : 2 * WB_DEPTH;
  // result bytes of one RUN: at most (XB_DEPTH*ROWS) * (CG_MAX*COLS), as in
  // qa_core, whose verdict_bytes_o has these bits at the bottom
  localparam integer N_RAW = clog2(XB_DEPTH * ROWS + 1) + clog2(CG_MAX * COLS + 1);
  localparam integer N_W = (N_RAW < 8) ? 8 : N_RAW;  // also holds IDENT's 20
  // response payload counters: a whole response, or one frame of 16 bits
  localparam integer NR_W = ((N_W > 16) ? N_W : 16) + 1;
  localparam integer TMO_W = clog2(TIMEOUT_CYCLES + 1);
  localparam integer CN_W = clog2(MAX_PAYLOAD + 10);  // a frame's body bytes
  localparam integer LN_W = clog2(MAX_PAYLOAD + 1);  // an accepted payload length
  localparam integer RXQ_CW = clog2(RXQ_DEPTH) + 1;
  localparam integer FLUSH_CYCLES = 4;
  localparam integer P_UNIT5 = COLS * 5;  // parameter bytes per column group
  // data bytes of one load: a 16-bit count times at most LD_UNIT_MAX bytes
  localparam integer LD_UNIT_MAX0 = (ROWS > 12) ? ROWS : 12;
  localparam integer LD_UNIT_MAX = (P_UNIT5 > LD_UNIT_MAX0) ? P_UNIT5 : LD_UNIT_MAX0;
  localparam integer LD_W = 16 + clog2(LD_UNIT_MAX + 1);
  localparam integer ND_BYTES = 12;  // bytes per layer descriptor of NET_LOAD (as qa_core)
  localparam [N_W-1:0] N_IDENT_CORE = 20;  // core bytes of IDENT and COUNTERS
  localparam [NR_W-1:0] N_IDENT_LINK = 16;  // link bytes IDENT appends
  localparam [NR_W-1:0] N_ONE = 1;
  localparam [NR_W-1:0] MAXP_NR = {{(NR_W - 16) {1'b0}}, MAX_PAYLOAD[15:0]};

  // ---- elaboration checks ----------------------------------------------------
  generate
    if (MAX_PAYLOAD < 64 || MAX_PAYLOAD > 65535) begin : g_bad_payload
      qa_error_link_max_payload_out_of_range_64_65535 u_error ();
    end
    if (((RXBUF_BYTES & (RXBUF_BYTES - 1)) != 0) || RXBUF_BYTES < MAX_PAYLOAD ||
        RXBUF_BYTES > (1 << 20)) begin : g_bad_rxbuf
      qa_error_link_rxbuf_must_be_power_of_two_at_least_max_payload u_error ();
    end
    if (((RXQ_DEPTH & (RXQ_DEPTH - 1)) != 0) || RXQ_DEPTH < 4 || RXQ_DEPTH > 128) begin : g_bad_rxq
      qa_error_link_rxq_depth_must_be_power_of_two_4_to_128 u_error ();
    end
    if (TIMEOUT_CYCLES < 64) begin : g_bad_timeout
      qa_error_link_timeout_below_64_cycles u_error ();
    end
    if (ROWS < 1 || ROWS > 64 || COLS < 1 || COLS > 64 || XB_DEPTH > 32768 ||
        WB_DEPTH > 32768 || PG_MAX > 32768) begin : g_bad_core
      qa_error_link_core_parameters_out_of_range u_error ();
    end
  endgenerate

  // ---- opcodes and status codes (docs/protocol.md, sections 3 and 5) ---------
  localparam [7:0] OP_NOP = 8'h00;
  localparam [7:0] OP_IDENT = 8'h01;
  localparam [7:0] OP_LOAD_X = 8'h02;
  localparam [7:0] OP_LOAD_W = 8'h03;
  localparam [7:0] OP_LOAD_P = 8'h04;
  localparam [7:0] OP_RUN = 8'h05;
  localparam [7:0] OP_COUNTERS = 8'h06;
  localparam [7:0] OP_CLEAR = 8'h07;
  localparam [7:0] OP_LOAD_WA = 8'h08;
  localparam [7:0] OP_LOAD_PA = 8'h09;
  localparam [7:0] OP_NET_LOAD = 8'h0A;
  localparam [7:0] OP_NET_RUN = 8'h0B;
  localparam [7:0] OP_LOAD_MORE = 8'h40;  // link opcodes: 0x40-0x7F
  localparam [7:0] OP_RESET = 8'h41;

  localparam [3:0] ST_OK = 4'h0;
  localparam [3:0] ST_BAD_CRC = 4'h1;
  localparam [3:0] ST_BAD_LENGTH = 4'h2;
  localparam [3:0] ST_TIMEOUT = 4'h3;
  localparam [3:0] ST_OVERFLOW = 4'h4;
  localparam [3:0] ST_LINE_ERROR = 4'h5;
  localparam [3:0] ST_SEQUENCE = 4'h6;
  localparam [3:0] ST_UNKNOWN_OPCODE = 4'h7;
  localparam [3:0] ST_BAD_SIZE = 4'h8;
  localparam [3:0] ST_BAD_ARG = 4'h9;
  localparam [3:0] ST_BUSY = 4'hA;
  localparam [3:0] ST_NO_LOAD = 4'hB;

  // =========================================================================
  // Flush (RESET frame): everything after the parser restarts, the core resets
  // =========================================================================
  reg flush_q;
  reg [2:0] flush_cnt_q;
  wire fl = rst_i || flush_q;  // reset of the flushed part
  assign core_rst_o = fl;

  // =========================================================================
  // Receive FIFO and COBS decoder
  // =========================================================================
  wire [8:0] rxf_data;
  wire rxf_valid, rxf_ready;
  wire [3:0] rxf_count;

  qa_fifo #(
      .WIDTH(9),
      .DEPTH(8),
      .CNT_W(4),
      .BLOCK(FIFO_BLOCK)
  ) u_rx_fifo (
      .clk_i    (clk_i),
      .rst_i    (rst_i),
      .s_data_i ({s_rx_err_i, s_rx_data_i}),
      .s_valid_i(s_rx_valid_i),
      .s_ready_o(s_rx_ready_o),
      .m_data_o (rxf_data),
      .m_valid_o(rxf_valid),
      .m_ready_i(rxf_ready),
      .count_o  (rxf_count)
  );

  wire [7:0] ev_data;
  wire ev_sof, ev_dat, ev_err, ev_valid;
  wire ev_ready, dec_busy;

  qa_cobs_dec u_dec (
      .clk_i    (clk_i),
      .rst_i    (rst_i),
      .s_data_i (rxf_data[7:0]),
      .s_err_i  (rxf_data[8]),
      .s_valid_i(rxf_valid),
      .s_ready_o(rxf_ready),
      .m_data_o (ev_data),
      .m_sof_o  (ev_sof),
      .m_dat_o  (ev_dat),
      .m_err_o  (ev_err),
      .m_valid_o(ev_valid),
      .m_ready_i(ev_ready),
      .busy_o   (dec_busy)
  );

  // =========================================================================
  // Frame parser
  // =========================================================================
  reg in_q;  // inside a frame that is still being checked
  reg got_q;  // the frame has had at least one byte after its marker
  reg [CN_W-1:0] cnt_q;  // body bytes received (at most MAX_PAYLOAD + 9)
  reg [7:0] op_q, seq_q;
  reg [15:0] len_q;  // (only its low LN_W bits once the length checked good)
  reg lerr_q;  // a byte of the frame had a line error
  reg ovf_q;  // the payload did not fit the receive buffer
  reg [23:0] crc_rx_q;  // first three received CRC bytes
  reg [7:0] exp_q;  // expected sequence number
  reg [TMO_W-1:0] tmo_q;  // clocks since the frame's last byte
  reg rst_push_q;  // RESET accepted: answer it when the flush is over
  reg [7:0] rst_seq_q;

  // receive buffer pointers (one extra bit tells full from empty)
  reg [RB_W:0] wr_q;  // next byte written (speculative, this frame)
  reg [RB_W:0] cm_q;  // end of the committed (checked) frames
  reg [RB_W:0] rd_q;  // next byte the forwarder reads
  wire [RB_W:0] rb_used = wr_q - rd_q;
  wire rb_full = (rb_used == RXBUF_BYTES[RB_W:0]);

  // frame queue
  // op, seq, status, then len (status OK) or the expected sequence number
  localparam integer RXQ_W = 8 + 8 + 4 + 16;
  reg rxq_push;
  reg rxq_rst_q;  // the entry pushed is RESET's answer
  reg [3:0] rxq_st_q;  // its status
  reg [7:0] rxq_op_q, rxq_seq_q;  // op_q and seq_q a clock ago (a marker clears them)
  wire [RXQ_W-1:0] rxq_in;
  wire rxq_in_ready;
  wire [RXQ_W-1:0] rxq_head;
  wire rxq_valid;
  reg rxq_pop;
  wire [RXQ_CW-1:0] rxq_count;
  wire room_good = (rxq_count < RXQ_DEPTH[RXQ_CW-1:0] - 1'b1);  // keep a slot for an error

  wire rx_crc_busy;
  // a decoded byte waits while the CRC folds in the previous one (9 clocks
  // a byte; the line brings one every 40 or more)
  assign ev_ready = !flush_q && !rst_push_q && !rx_crc_busy;
  wire ev = ev_valid && ev_ready;
  wire ev_body = ev && in_q && ev_dat;  // a decoded body byte of the current frame

  wire [CN_W-1:0] lenc = {{(CN_W - LN_W) {1'b0}}, len_q[LN_W-1:0]};
  localparam [CN_W-1:0] C4 = 4, C5 = 5, C8 = 8;
  wire at_len_hi = (cnt_q == C4);
  wire [15:0] len_now = {ev_data, len_q[7:0]};
  wire in_payload = (cnt_q >= C5) && (cnt_q < lenc + C5);
  wire in_crc = (cnt_q >= lenc + C5);
  wire at_end = (cnt_q == lenc + C8);

  wire [31:0] rx_crc;
  wire [31:0] crc_got = {ev_data, crc_rx_q};
  wire crc_ok = (crc_got == rx_crc);
  wire is_reset = (op_q == OP_RESET) && (len_q == 16'd0);

  qa_crc32 #(
      .BITS(1)
  ) u_rx_crc (
      .clk_i  (clk_i),
      .rst_i  (rst_i),
      .init_i (ev && ev_sof),
      .valid_i(ev_body && (cnt_q < C5 || in_payload)),
      .data_i (ev_data),
      .crc_o  (rx_crc),
      .busy_o (rx_crc_busy)
  );

  // the decision at the end of a frame
  reg [3:0] end_status;
  always @(*) begin
    if (lerr_q || ev_err) end_status = ST_LINE_ERROR;
    else if (!crc_ok) end_status = ST_BAD_CRC;
    else if (ovf_q || (!room_good && !is_reset)) end_status = ST_OVERFLOW;
    else if (!is_reset && seq_q != exp_q) end_status = ST_SEQUENCE;
    else end_status = ST_OK;
  end

  wire tmo_hit = in_q && !ev && (tmo_q == TIMEOUT_CYCLES[TMO_W-1:0] - 1'b1);

  always @(posedge clk_i) begin
    rxq_push <= 1'b0;
    if (rst_i) begin
      in_q       <= 1'b0;
      got_q      <= 1'b0;
      cnt_q      <= {CN_W{1'b0}};
      exp_q      <= 8'd0;
      tmo_q      <= {TMO_W{1'b0}};
      rst_push_q <= 1'b0;
      flush_q    <= 1'b0;
      flush_cnt_q <= 3'd0;
      lerr_q     <= 1'b0;
      ovf_q      <= 1'b0;
    end else begin
      // flush sequence of a RESET
      if (flush_q) begin
        flush_cnt_q <= flush_cnt_q - 3'd1;
        if (flush_cnt_q == 3'd1) flush_q <= 1'b0;
      end else if (rst_push_q) begin
        rst_push_q <= 1'b0;
        rxq_push   <= 1'b1;
        rxq_rst_q <= 1'b1;
        rxq_st_q  <= ST_OK;
      end

      if (ev) tmo_q <= {TMO_W{1'b0}};
      else if (in_q) tmo_q <= tmo_q + 1'b1;

      if (ev && ev_sof) begin
        // a marker: the frame in progress (if any) was cut short
        if (in_q && got_q && rxq_in_ready) begin
          rxq_push <= 1'b1;
          rxq_rst_q <= 1'b0;
          rxq_st_q  <= ST_BAD_LENGTH;
        end
        in_q   <= 1'b1;
        got_q  <= 1'b0;
        cnt_q  <= {CN_W{1'b0}};
        op_q   <= 8'd0;
        seq_q  <= 8'd0;
        len_q  <= 16'd0;
        lerr_q <= 1'b0;
        ovf_q  <= 1'b0;
      end else if (ev && in_q) begin
        got_q <= 1'b1;
        if (ev_err) lerr_q <= 1'b1;
        if (ev_dat) begin
          cnt_q <= cnt_q + 1'b1;
          if (cnt_q == {CN_W{1'b0}}) op_q <= ev_data;
          if (cnt_q == {{(CN_W - 1) {1'b0}}, 1'b1}) seq_q <= ev_data;
          if (cnt_q == {{(CN_W - 2) {1'b0}}, 2'd3}) len_q[7:0] <= ev_data;
          if (at_len_hi) begin
            len_q[15:8] <= ev_data;
            if ({16'd0, len_now} > MAX_PAYLOAD) begin
              in_q <= 1'b0;  // ignore the rest, up to the next marker
              if (rxq_in_ready) begin
                rxq_push <= 1'b1;
                rxq_rst_q <= 1'b0;
                rxq_st_q  <= ST_BAD_LENGTH;
              end
            end
          end
          if (in_payload && rb_full) ovf_q <= 1'b1;
          if (in_crc && !at_end) crc_rx_q <= {ev_data, crc_rx_q[23:8]};
          if (at_end) begin
            in_q <= 1'b0;
            if (end_status == ST_OK) begin
              exp_q <= seq_q + 8'd1;
              if (is_reset) begin
                flush_q     <= 1'b1;
                flush_cnt_q <= FLUSH_CYCLES[2:0];
                rst_push_q  <= 1'b1;
                rst_seq_q   <= seq_q;
              end else begin
                rxq_push <= 1'b1;
                rxq_rst_q <= 1'b0;
                rxq_st_q  <= ST_OK;
              end
            end else if (rxq_in_ready) begin
              rxq_push <= 1'b1;
              rxq_rst_q <= 1'b0;
              rxq_st_q  <= end_status;
            end
          end
        end
      end else if (tmo_hit) begin
        in_q <= 1'b0;
        if (got_q && rxq_in_ready) begin
          rxq_push <= 1'b1;
          rxq_rst_q <= 1'b0;
          rxq_st_q  <= ST_TIMEOUT;
        end
      end
    end
  end

  // The queue entry, in the clock after the decision: op and seq as they were
  // then; len_q and exp_q have not changed where they are used (a good frame
  // moves exp_q on but uses len_q, a marker clears len_q but the entry then
  // is an error that uses exp_q).
  always @(posedge clk_i) begin
    rxq_op_q  <= op_q;
    rxq_seq_q <= seq_q;
  end
  assign rxq_in = rxq_rst_q ? {OP_RESET, rst_seq_q, ST_OK, 16'd0} :
      {rxq_op_q, rxq_seq_q, rxq_st_q, (rxq_st_q == ST_OK) ? len_q : {8'd0, exp_q}};

  // receive buffer write side: payload bytes are written as they come and
  // committed (cm_q) only when their frame checked good
  wire rb_write = ev_body && in_payload && !rb_full;
  wire frame_ok = ev_body && at_end && (end_status == ST_OK) && !is_reset;
  wire frame_drop = (ev && ev_sof && in_q) || (ev_body && at_end && !frame_ok) ||
                    (ev_body && at_len_hi && ({16'd0, len_now} > MAX_PAYLOAD)) || tmo_hit;
  always @(posedge clk_i) begin
    if (fl) begin
      wr_q <= {(RB_W + 1) {1'b0}};
      cm_q <= {(RB_W + 1) {1'b0}};
    end else if (frame_ok) begin
      cm_q <= wr_q;
    end else if (frame_drop) begin
      wr_q <= cm_q;
    end else if (rb_write) begin
      wr_q <= wr_q + 1'b1;
    end
  end

  qa_fifo #(
      .WIDTH(RXQ_W),
      .DEPTH(RXQ_DEPTH),
      .CNT_W(RXQ_CW),
      .BLOCK(FIFO_BLOCK)
  ) u_rxq (
      .clk_i    (clk_i),
      .rst_i    (fl),
      .s_data_i (rxq_in),
      .s_valid_i(rxq_push),
      .s_ready_o(rxq_in_ready),
      .m_data_o (rxq_head),
      .m_valid_o(rxq_valid),
      .m_ready_i(rxq_pop),
      .count_o  (rxq_count)
  );

  // =========================================================================
  // Forwarder
  // =========================================================================
  localparam [2:0] F_IDLE = 3'd0;  // waiting for a frame
  localparam [2:0] F_DECODE = 3'd1;  // checking op, size and state
  localparam [2:0] F_ARGS = 3'd2;  // reading a load's argument bytes from the buffer
  localparam [2:0] F_CHECK = 3'd3;  // checking a load's data size against its arguments
  localparam [2:0] F_SEND = 3'd4;  // sending op, arguments and data to the core
  localparam [2:0] F_RSP = 3'd5;  // (RUN, NET_RUN: the core's verdict, then) the descriptor
  localparam [2:0] F_ACT = 3'd6;  // acting on F_DECODE's decision (f_dec_q)

  // F_DECODE's decisions (registered: timing)
  localparam [2:0] D_RSP = 3'd0;  // a damaged frame, NOP, RESET: straight to the response
  localparam [2:0] D_REJECT = 3'd1;  // refused, with the status already in f_st_q
  localparam [2:0] D_CORE = 3'd2;  // IDENT, COUNTERS, CLEAR
  localparam [2:0] D_MORE = 3'd3;  // LOAD_MORE
  localparam [2:0] D_RUN = 3'd4;  // RUN, NET_RUN
  localparam [2:0] D_LOAD = 3'd5;  // a load's header

  localparam [1:0] SP_OP = 2'd0;
  localparam [1:0] SP_ARG = 2'd1;
  localparam [1:0] SP_DATA = 2'd2;

  reg [2:0] f_state_q;
  reg [7:0] f_op_q, f_seq_q, f_exp_q;
  reg [3:0] f_st_q;
  reg [LN_W-1:0] f_len_q;  // payload bytes (a good frame's length is at most MAX_PAYLOAD)
  reg [31:0] f_arg_q;  // a load's 1, 3 or 4 argument bytes, byte n at [8n +: 8] (a shift register)
  reg [2:0] f_nargs_q;  // argument bytes of this command (RUN's and NET_RUN's go as data)
  reg [2:0] f_aidx_q;
  reg [LN_W-1:0] f_dat_q;  // data bytes still to send from the buffer
  reg [1:0] f_phase_q;
  reg [2:0] f_dec_q;
  reg [N_W-1:0] f_nres_q;  // core response bytes of this command
  reg f_ident_q;
  reg f_vd_q;  // a RUN or NET_RUN is in the core: its response waits for the verdict
  reg [LD_W-1:0] ld_left_q;  // data bytes the load in progress still expects

  // response descriptor queue
  // op, seq, status, core bytes (status OK) or expected sequence number, ident
  localparam integer RQ_W = 8 + 8 + 4 + N_W + 1;
  reg rq_push;
  reg [RQ_W-1:0] rq_in;
  wire rq_in_ready;
  wire [RQ_W-1:0] rq_head;
  wire rq_valid;
  reg rq_pop;
  wire [2:0] rq_count;

  // loads: the count field times the data bytes per counted unit, each
  // unit a constant, so the products are shifts and adds (no multiplier
  // block); the count, then the total, then its comparison with the
  // frame's data bytes registered, and decided in F_CHECK's fourth clock
  wire [15:0] ld_count = (f_op_q == OP_NET_LOAD) ? {8'd0, f_arg_q[7:0]} :
      (f_op_q == OP_LOAD_WA || f_op_q == OP_LOAD_PA) ? f_arg_q[31:16] : f_arg_q[23:8];
  reg [LD_W-1:0] ld_cnt_w;
  always @(posedge clk_i) ld_cnt_w <= {{(LD_W - 16) {1'b0}}, ld_count};
  function [LD_W-1:0] mulc;  // x * c for a constant c < 2^16
    input [LD_W-1:0] x;
    input integer c;
    integer b;
    begin
      mulc = {LD_W{1'b0}};
      for (b = 0; b < 16; b = b + 1) if (((c >> b) & 1) != 0) mulc = mulc + (x << b);
    end
  endfunction
  reg [LD_W-1:0] ld_total, ld_total_q;
  always @(*) begin
    case (f_op_q)
      OP_LOAD_X: ld_total = mulc(ld_cnt_w, ROWS);
      OP_LOAD_W, OP_LOAD_WA: ld_total = mulc(ld_cnt_w, COLS);
      OP_LOAD_P, OP_LOAD_PA: ld_total = mulc(ld_cnt_w, P_UNIT5);
      default: ld_total = mulc(ld_cnt_w, ND_BYTES);  // OP_NET_LOAD
    endcase
  end
  always @(posedge clk_i) ld_total_q <= ld_total;
  wire [15:0] f_len16 = {{(16 - LN_W) {1'b0}}, f_len_q};
  // data in this frame (len >= nargs) and whether it is more than the load
  // takes, registered (timing): F_CHECK's second and fourth clocks
  reg [15:0] ld_data;
  reg ld_over_q;
  always @(posedge clk_i) ld_data <= f_len16 - {13'd0, f_nargs_q};
  wire [LD_W-1:0] ld_data_w = {{(LD_W - 16) {1'b0}}, ld_data};
  always @(posedge clk_i) ld_over_q <= (ld_data_w > ld_total_q);
  wire [LD_W-1:0] f_len_w = {{(LD_W - 16) {1'b0}}, f_len16};

  wire [N_W+7:0] f_exp_ext = {{N_W{1'b0}}, f_exp_q};

  // Argument bytes enter the shift register at byte nargs-1 (nargs is 1, 3
  // or 4) and move down one byte per byte read, so that after the last one
  // byte n is at [8n +: 8]; sending them shifts them out of byte 0.
  reg [31:0] f_arg_in;
  always @(*) begin
    f_arg_in = {rb_rd_data, f_arg_q[31:8]};
    if (f_nargs_q == 3'd1) f_arg_in[7:0] = rb_rd_data;
    if (f_nargs_q == 3'd3) f_arg_in[23:16] = rb_rd_data;
  end

  // buffer reads: the RAM address is the next value of rd_q, so the RAM
  // output always shows the byte at rd_q
  wire cmd_fire = m_cmd_valid_o && m_cmd_ready_i;
  wire data_fire = (f_state_q == F_SEND) && (f_phase_q == SP_DATA) && cmd_fire;
  reg [RB_W:0] rd_d;
  always @(*) begin
    rd_d = rd_q;
    if (f_state_q == F_ARGS || data_fire) rd_d = rd_q + 1'b1;
  end
  wire [7:0] rb_rd_data;

  qa_ram #(
      .WIDTH (8),
      .DEPTH (RXBUF_BYTES),
      .ADDR_W(RB_W)
  ) u_rxbuf (
      .clk_i    (clk_i),
      .wr_en_i  (rb_write),
      .wr_addr_i(wr_q[RB_W-1:0]),
      .wr_data_i(ev_data),
      .rd_en_i  (1'b1),
      .rd_addr_i(rd_d[RB_W-1:0]),
      .rd_data_o(rb_rd_data)
  );

  // a payload byte count as a receive-buffer pointer step
  function [RB_W:0] rb_step;
    input [15:0] v;
    integer i;
    begin
      rb_step = {(RB_W + 1) {1'b0}};
      for (i = 0; i <= RB_W && i < 16; i = i + 1) rb_step[i] = v[i];
    end
  endfunction

  // F_DECODE: what to do with the frame (refusals name their status). Its
  // inputs are registered (timing): they are valid from F_DECODE's second
  // clock (f_op_q and f_len_q are loaded as it starts; ld_left_q last moved
  // in the previous frame's F_ACT or F_CHECK), where it decides.
  reg dq_bad_op_q, dq_busy_q, dq_empty_op_q, dq_core_op_q, dq_more_q, dq_run_q;
  reg dq_len0_q, dq_len_run_q, dq_len_short_q, dq_no_load_q, dq_more_big_q;
  always @(posedge clk_i) begin
    dq_bad_op_q <= (f_op_q > OP_NET_RUN) && (f_op_q != OP_LOAD_MORE) && (f_op_q != OP_RESET);
    dq_busy_q <= (ld_left_q != {LD_W{1'b0}}) && (f_op_q != OP_LOAD_MORE);
    dq_empty_op_q <= (f_op_q == OP_NOP) || (f_op_q == OP_RESET);
    dq_core_op_q <= (f_op_q == OP_IDENT) || (f_op_q == OP_COUNTERS) || (f_op_q == OP_CLEAR);
    dq_more_q <= (f_op_q == OP_LOAD_MORE);
    dq_run_q <= (f_op_q == OP_RUN) || (f_op_q == OP_NET_RUN);
    dq_len0_q <= (f_len16 == 16'd0);
    // RUN and NET_RUN: the opcode and the 13 or 4 argument bytes straight
    // from the buffer; the core checks the arguments (its verdict, F_RSP)
    dq_len_run_q <= (f_len16 == ((f_op_q == OP_RUN) ? 16'd13 : 16'd4));
    // the loads: too short for their argument bytes
    dq_len_short_q <= (f_op_q == OP_NET_LOAD && f_len16 < 16'd1) ||
        ((f_op_q == OP_LOAD_WA || f_op_q == OP_LOAD_PA) && f_len16 < 16'd4) ||
        (f_op_q <= OP_LOAD_P && f_len16 < 16'd3);
    dq_no_load_q <= (ld_left_q == {LD_W{1'b0}});
    dq_more_big_q <= (f_len_w > ld_left_q);
  end
  reg [2:0] dec;
  reg [3:0] dec_st;
  always @(*) begin
    dec_st = ST_BAD_SIZE;
    if (f_st_q != ST_OK) begin
      dec = D_RSP;  // damaged frame: answer with the parser's status
    end else if (dq_bad_op_q) begin
      dec = D_REJECT;
      dec_st = ST_UNKNOWN_OPCODE;
    end else if (dq_busy_q) begin
      dec = D_REJECT;
      dec_st = ST_BUSY;
    end else if (dq_empty_op_q) begin
      dec = dq_len0_q ? D_RSP : D_REJECT;
    end else if (dq_core_op_q) begin
      dec = dq_len0_q ? D_CORE : D_REJECT;
    end else if (dq_more_q) begin
      if (dq_no_load_q) begin
        dec = D_REJECT;
        dec_st = ST_NO_LOAD;
      end else begin
        dec = dq_more_big_q ? D_REJECT : D_MORE;
      end
    end else if (dq_run_q) begin
      dec = dq_len_run_q ? D_RUN : D_REJECT;
    end else begin
      dec = dq_len_short_q ? D_REJECT : D_LOAD;  // the loads
    end
  end

  // reject the frame with status st: skip its unread payload bytes
  task reject;
    input [3:0] st;
    input [15:0] unread;
    begin
      f_st_q    <= st;
      f_exp_q   <= f_seq_q + 8'd1;
      f_nres_q  <= {N_W{1'b0}};
      f_ident_q <= 1'b0;
      rd_q      <= rd_q + rb_step(unread);
      f_state_q <= F_RSP;
    end
  endtask

  always @(posedge clk_i) begin
    rxq_pop <= 1'b0;
    rq_push <= 1'b0;
    error_o <= 1'b0;
    if (fl) begin
      f_state_q <= F_IDLE;
      rd_q      <= {(RB_W + 1) {1'b0}};
      ld_left_q <= {LD_W{1'b0}};
      f_vd_q    <= 1'b0;
      f_phase_q <= SP_OP;
    end else begin
      case (f_state_q)
        F_IDLE: begin
          if (rxq_valid && !rxq_pop) begin
            rxq_pop <= 1'b1;
            // (len is the expected sequence number when the status is not OK;
            // f_exp_q matters only then)
            {f_op_q, f_seq_q, f_st_q} <= rxq_head[RXQ_W-1:16];
            f_len_q   <= rxq_head[LN_W-1:0];
            f_exp_q   <= rxq_head[7:0];
            f_nres_q  <= {N_W{1'b0}};
            f_ident_q <= 1'b0;
            f_vd_q    <= 1'b0;
            f_aidx_q  <= 3'd0;
            f_state_q <= F_DECODE;
          end
        end
        F_DECODE: begin
          // first clock (f_aidx_q 0): the dq_* registers take this frame's values
          if (f_aidx_q == 3'd0) begin
            f_aidx_q <= 3'd1;
          end else begin
            f_aidx_q  <= 3'd0;
            f_dec_q   <= dec;
            if (dec == D_REJECT) f_st_q <= dec_st;
            f_state_q <= F_ACT;
          end
        end
        F_ACT: begin
          case (f_dec_q)
            D_RSP: f_state_q <= F_RSP;
            D_REJECT: reject(f_st_q, f_len16);
            D_CORE: begin
              f_nres_q  <= (f_op_q == OP_CLEAR) ? {N_W{1'b0}} : N_IDENT_CORE;
              f_ident_q <= (f_op_q == OP_IDENT);
              f_nargs_q <= 3'd0;
              f_dat_q   <= {LN_W{1'b0}};
              f_phase_q <= SP_OP;
              f_state_q <= F_SEND;
            end
            D_MORE: begin
              ld_left_q <= ld_left_q - f_len_w;
              f_nargs_q <= 3'd0;
              f_dat_q   <= f_len_q;
              f_phase_q <= SP_DATA;
              f_state_q <= (f_len16 == 16'd0) ? F_RSP : F_SEND;
            end
            D_RUN: begin
              f_nargs_q <= 3'd0;
              f_dat_q   <= f_len_q;
              f_phase_q <= SP_OP;
              f_vd_q    <= 1'b1;
              f_state_q <= F_SEND;
            end
            default: begin  // D_LOAD
              f_nargs_q <= (f_op_q == OP_NET_LOAD) ? 3'd1 :
                  (f_op_q == OP_LOAD_WA || f_op_q == OP_LOAD_PA) ? 3'd4 : 3'd3;
              f_state_q <= F_ARGS;
            end
          endcase
        end
        F_ARGS: begin
          f_arg_q <= f_arg_in;
          rd_q <= rd_d;
          f_aidx_q <= f_aidx_q + 3'd1;
          if (f_aidx_q == f_nargs_q - 3'd1) f_state_q <= F_CHECK;
        end
        F_CHECK: begin
          // first three clocks (f_aidx_q == f_nargs_q .. f_nargs_q + 2):
          // the count, then ld_total_q, then ld_over_q are being loaded
          if (f_aidx_q != f_nargs_q + 3'd3) begin
            f_aidx_q <= f_aidx_q + 3'd1;
          end else if (ld_over_q) begin
            reject(ST_BAD_SIZE, ld_data);
          end else begin
            ld_left_q <= ld_total_q - ld_data_w;
            f_dat_q   <= ld_data[LN_W-1:0];
            f_aidx_q  <= 3'd0;
            f_phase_q <= SP_OP;
            f_state_q <= F_SEND;
          end
        end
        F_SEND: begin
          if (cmd_fire) begin
            case (f_phase_q)
              SP_OP: begin
                if (f_nargs_q != 3'd0) f_phase_q <= SP_ARG;
                else if (f_dat_q != {LN_W{1'b0}}) f_phase_q <= SP_DATA;
                else f_state_q <= F_RSP;
              end
              SP_ARG: begin
                f_arg_q  <= {8'd0, f_arg_q[31:8]};  // the next byte to [7:0]
                f_aidx_q <= f_aidx_q + 3'd1;
                if (f_aidx_q == f_nargs_q - 3'd1) begin
                  if (f_dat_q != {LN_W{1'b0}}) f_phase_q <= SP_DATA;
                  else f_state_q <= F_RSP;
                end
              end
              default: begin
                rd_q    <= rd_d;
                f_dat_q <= f_dat_q - 1'b1;
                if (f_dat_q == {{(LN_W - 1) {1'b0}}, 1'b1}) f_state_q <= F_RSP;
              end
            endcase
          end
        end
        default: begin  // F_RSP
          if (f_vd_q) begin
            // RUN, NET_RUN: the core's verdict (it cannot come earlier: the
            // core decides only once it has the last byte, which moved in
            // the clock this state was entered)
            if (s_vd_valid_i) begin
              f_vd_q   <= 1'b0;
              f_nres_q <= s_vd_bytes_i[N_W-1:0];
              if (!s_vd_ok_i) begin
                f_st_q  <= ST_BAD_ARG;
                f_exp_q <= f_seq_q + 8'd1;
              end
            end
          end else if (rq_in_ready) begin
            rq_push   <= 1'b1;
            rq_in     <= {f_op_q, f_seq_q, f_st_q,
                          (f_st_q == ST_OK) ? f_nres_q : f_exp_ext[N_W-1:0],
                          f_ident_q};
            error_o   <= (f_st_q != ST_OK);
            f_state_q <= F_IDLE;
          end
        end
      endcase
    end
  end

  assign m_cmd_valid_o = (f_state_q == F_SEND);
  assign m_cmd_data_o = (f_phase_q == SP_OP) ? f_op_q :
                        (f_phase_q == SP_ARG) ? f_arg_q[7:0] : rb_rd_data;

  qa_fifo #(
      .WIDTH(RQ_W),
      .DEPTH(4),
      .CNT_W(3),
      .BLOCK(FIFO_BLOCK)
  ) u_rspq (
      .clk_i    (clk_i),
      .rst_i    (fl),
      .s_data_i (rq_in),
      .s_valid_i(rq_push),
      .s_ready_o(rq_in_ready),
      .m_data_o (rq_head),
      .m_valid_o(rq_valid),
      .m_ready_i(rq_pop),
      .count_o  (rq_count)
  );

  // =========================================================================
  // Response framer
  // =========================================================================
  localparam [2:0] T_IDLE = 3'd0;  // waiting for a response descriptor
  localparam [2:0] T_START = 3'd1;  // sizing the next frame
  localparam [2:0] T_HDR = 3'd2;  // header bytes
  localparam [2:0] T_PAY = 3'd3;  // payload bytes
  localparam [2:0] T_CRC = 3'd4;  // CRC bytes

  // IDENT's link part, byte n at [8n +: 8] (docs/protocol.md, section 3)
  wire [127:0] link_info = {
    TIMEOUT_CYCLES[31:0], BAUD[31:0], RXBUF_BYTES[31:0], MAX_PAYLOAD[15:0], MAX_FRAMES[7:0],
    PROTO_VERSION[7:0]
  };

  reg [2:0] t_state_q;
  reg [7:0] t_op_q, t_seq_q;
  reg [3:0] t_st_q;
  reg [7:0] t_exp_q;  // the expected sequence number (a status other than OK)
  reg t_ident_q;  // IDENT: the last N_IDENT_LINK payload bytes are the link's
  reg [NR_W-1:0] t_rem_q;  // payload bytes of the response not yet sent
  reg [3:0] t_info_q;  // link bytes of IDENT sent so far
  reg [15:0] t_fleft_q;  // payload bytes of the current frame still to send (its
                         // length while the header goes out)
  reg t_more_q;
  reg [2:0] t_idx_q;  // header or CRC byte index

  wire enc_ready;
  wire [31:0] tx_crc;
  wire tx_crc_busy;  // the CRC folds in the last header or payload byte
  // the core's bytes come first, then (IDENT) the link's: pay_core is
  // (t_st_q == ST_OK) && !(t_ident_q && t_rem_q <= N_IDENT_LINK), kept
  // registered (timing) wherever t_rem_q moves
  reg pay_core;
  reg [7:0] t_data;
  reg t_valid;
  always @(*) begin
    t_data  = 8'h00;
    t_valid = 1'b0;
    case (t_state_q)
      T_HDR: begin
        t_valid = 1'b1;
        case (t_idx_q)
          3'd0: t_data = t_op_q | 8'h80;
          3'd1: t_data = t_seq_q;
          3'd2: t_data = {t_more_q, 3'd0, t_st_q};
          3'd3: t_data = t_fleft_q[7:0];
          default: t_data = t_fleft_q[15:8];
        endcase
      end
      T_PAY: begin
        if (t_st_q != ST_OK) begin
          t_valid = 1'b1;
          t_data  = t_exp_q;  // the expected sequence number
        end else if (pay_core) begin
          t_valid = s_rsp_valid_i;
          t_data  = s_rsp_data_i;
        end else begin
          t_valid = 1'b1;
          t_data  = link_info[t_info_q*8+:8];
        end
      end
      T_CRC: begin
        t_valid = 1'b1;
        t_data  = tx_crc[t_idx_q[1:0]*8+:8];
      end
      default: ;
    endcase
  end
  wire t_last = (t_state_q == T_CRC) && (t_idx_q == 3'd3);
  wire t_go = enc_ready && !tx_crc_busy;  // a byte may leave now
  wire t_fire = t_valid && t_go;
  assign s_rsp_ready_o = (t_state_q == T_PAY) && pay_core && t_go;

  // fields of the response descriptor at the head of the queue
  wire [7:0] rq_op = rq_head[RQ_W-1-:8];
  wire [7:0] rq_seq = rq_head[RQ_W-9-:8];
  wire [3:0] rq_st = rq_head[RQ_W-17-:4];
  wire [N_W-1:0] rq_nres = rq_head[N_W:1];
  wire rq_ident = rq_head[0];
  // (IDENT's core bytes are always N_IDENT_CORE)
  wire [NR_W-1:0] rq_total = rq_ident ? {{(NR_W - N_W) {1'b0}}, N_IDENT_CORE} + N_IDENT_LINK :
                                        {{(NR_W - N_W) {1'b0}}, rq_nres};

  always @(posedge clk_i) begin
    rq_pop <= 1'b0;
    if (fl) begin
      t_state_q <= T_IDLE;
      t_idx_q   <= 3'd0;
    end else begin
      case (t_state_q)
        T_IDLE: begin
          if (rq_valid && !rq_pop) begin
            rq_pop <= 1'b1;
            t_op_q    <= rq_op;
            t_seq_q   <= rq_seq;
            t_st_q    <= rq_st;
            t_exp_q   <= rq_nres[7:0];
            t_ident_q <= rq_ident;
            t_rem_q   <= (rq_st != ST_OK) ? N_ONE : rq_total;
            // (IDENT's total is more than N_IDENT_LINK)
            pay_core  <= (rq_st == ST_OK);
            t_info_q  <= 4'd0;
            t_state_q <= T_START;
          end
        end
        T_START: begin
          t_more_q  <= (t_rem_q > MAXP_NR);
          t_fleft_q <= (t_rem_q > MAXP_NR) ? MAX_PAYLOAD[15:0] : t_rem_q[15:0];
          t_idx_q   <= 3'd0;
          t_state_q <= T_HDR;
        end
        T_HDR: begin
          if (t_fire) begin
            t_idx_q <= t_idx_q + 3'd1;
            if (t_idx_q == 3'd4) begin
              t_idx_q   <= 3'd0;
              t_state_q <= (t_fleft_q != 16'd0) ? T_PAY : T_CRC;
            end
          end
        end
        T_PAY: begin
          if (t_fire) begin
            if (!pay_core && t_st_q == ST_OK) t_info_q <= t_info_q + 4'd1;
            t_rem_q <= t_rem_q - N_ONE;
            pay_core <= (t_st_q == ST_OK) && !(t_ident_q && (t_rem_q <= N_IDENT_LINK + N_ONE));
            t_fleft_q <= t_fleft_q - 16'd1;
            if (t_fleft_q == 16'd1) t_state_q <= T_CRC;
          end
        end
        default: begin  // T_CRC
          if (t_fire) begin
            t_idx_q <= t_idx_q + 3'd1;
            if (t_idx_q == 3'd3) begin
              t_state_q <= t_more_q ? T_START : T_IDLE;
            end
          end
        end
      endcase
    end
  end

  qa_crc32 #(
      .BITS(4)
  ) u_tx_crc (
      .clk_i  (clk_i),
      .rst_i  (fl),
      .init_i (t_state_q == T_HDR && t_idx_q == 3'd0),
      .valid_i(t_fire && (t_state_q == T_HDR || t_state_q == T_PAY)),
      .data_i (t_data),
      .crc_o  (tx_crc),
      .busy_o (tx_crc_busy)
  );

  // COBS encoder and transmit FIFO. The encoder sends nothing while it
  // collects a run: up to 254 bytes at 3 clocks each (the CRC), 762 clocks,
  // against the 640 clocks the FIFO's 16 bytes last at the fastest line (40
  // clocks a byte): at most 122 clocks of silence per 254 non-zero bytes.
  wire [7:0] enc_data;
  wire enc_valid, txf_ready;
  wire [4:0] txf_count;

  qa_cobs_enc u_enc (
      .clk_i    (clk_i),
      .rst_i    (fl),
      .s_data_i (t_data),
      .s_last_i (t_last),
      .s_valid_i(t_valid && !tx_crc_busy),
      .s_ready_o(enc_ready),
      .m_data_o (enc_data),
      .m_valid_o(enc_valid),
      .m_ready_i(txf_ready)
  );

  qa_fifo #(
      .WIDTH(8),
      .DEPTH(16),
      .CNT_W(5),
      .BLOCK(FIFO_BLOCK)
  ) u_tx_fifo (
      .clk_i    (clk_i),
      .rst_i    (fl),
      .s_data_i (enc_data),
      .s_valid_i(enc_valid),
      .s_ready_o(txf_ready),
      .m_data_o (m_tx_data_o),
      .m_valid_o(m_tx_valid_o),
      .m_ready_i(m_tx_ready_i),
      .count_o  (txf_count)
  );

  assign rx_active_o = in_q;
  assign tx_active_o = (t_state_q != T_IDLE) || m_tx_valid_o;
  // for a simulator that stops the clock while nothing happens: every queue
  // empty, every state machine at rest, no partial frame (its timeout runs)
  assign idle_o = !(rxf_valid || dec_busy || in_q || rx_crc_busy || flush_q || rst_push_q ||
                    rxq_push || rxq_valid || (f_state_q != F_IDLE) || rq_push || rq_valid ||
                    (t_state_q != T_IDLE) || enc_valid || m_tx_valid_o);

  wire unused_ok = &{1'b0, rxf_count, rq_count, txf_count, f_exp_ext, s_vd_bytes_i, rxq_head};

endmodule

`default_nettype wire
