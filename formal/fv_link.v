// SPDX-License-Identifier: Apache-2.0
// fv_link: formal harness for the receive side of rtl/qa_link.v (receive
// FIFO, COBS decoder, frame parser), in a small configuration: 1x1 core
// parameters, 64-byte payloads and receive buffer, a 4-deep frame queue, a
// 64-clock timeout.
//
// Every input is free on every clock: the UART bytes and their error flags
// (at any rate, up to one per clock), the transmit, command and response
// handshakes, and the core's verdicts on RUN and NET_RUN. Proven (task `live`, k-induction):
//   - never stuck: the parser refuses a decoded byte only while the CRC
//     folds in the previous byte (at most 8 clocks in a row) or during the
//     flush of a RESET (at most FLUSH_CYCLES + 1 = 5 clocks), and the
//     link's UART input (s_rx_ready_o) is low for at most RX_BLOCK_MAX = 17
//     clocks in a row even when a byte is offered on every clock (a byte
//     that ends a COBS group makes two decoded bytes, 9 clocks each) - less
//     than the 10*DIV >= 40 clocks a UART byte takes, so a UART never
//     overruns;
//   - always back to idle: a frame in progress ends (rx_active_o falls) at
//     most TIMEOUT_CYCLES clocks after its last byte, whatever was received;
//   - resynchronisation: every start marker puts the parser at the start of
//     a fresh frame (no byte counted, no error remembered) and drops the
//     uncommitted bytes of a cut frame from the receive buffer, so garbage
//     can spoil at most the frame it is in;
//   - no frame descriptor is ever pushed into a full frame queue (a push
//     the queue refuses would lose a frame or its error response).
// Task `cover` (the whole link, no cut points): a frame with a correct CRC
// checks good, and s_rx_ready_o is low for RX_BLOCK_MAX clocks in a row.
// In task `live` the .sby script makes two forwarder signals free (cutpoint):
// when it pops the frame queue and how far it has read the receive buffer.
// That is a superset of the forwarder's behaviour, so the proof stays sound,
// and it keeps the forwarder and the response path out of the model.
// f_obs_* wires look inside the link; the .sby script connects them.
`default_nettype none

module fv_link #(
    parameter integer TIMEOUT_CYCLES = 64,  // the link's partial-frame timeout
    parameter integer RX_BLOCK_MAX   = 17   // longest run of s_rx_ready_o low
) (
    input wire       clk,
    input wire       rst_i,
    input wire [7:0] s_rx_data_i,
    input wire       s_rx_err_i,
    input wire       s_rx_valid_i,
    input wire       m_tx_ready_i,
    input wire       m_cmd_ready_i,
    input wire [7:0] s_rsp_data_i,
    input wire       s_rsp_valid_i,
    input wire       s_vd_valid_i,
    input wire       s_vd_ok_i,
    input wire [47:0] s_vd_bytes_i
);

  localparam integer RXQ_DEPTH = 4;
  localparam integer RB_W = 6;  // log2 of the 64-byte receive buffer
  localparam integer TMO_W = 7;  // the link's timeout counter width

  wire s_rx_ready_o, m_tx_valid_o, m_cmd_valid_o, s_rsp_ready_o;
  wire [7:0] m_tx_data_o, m_cmd_data_o;
  wire core_rst_o, rx_active_o, tx_active_o, idle_o, error_o;

  qa_link #(
      .ROWS          (1),
      .COLS          (1),
      .XB_DEPTH      (4),
      .WB_DEPTH      (4),
      .PG_MAX        (2),
      .BAUD          (100),
      .MAX_PAYLOAD   (64),
      .RXBUF_BYTES   (64),
      .RXQ_DEPTH     (RXQ_DEPTH),
      .TIMEOUT_CYCLES(TIMEOUT_CYCLES)
  ) u_dut (
      .clk_i        (clk),
      .rst_i        (rst_i),
      .s_rx_data_i  (s_rx_data_i),
      .s_rx_err_i   (s_rx_err_i),
      .s_rx_valid_i (s_rx_valid_i),
      .s_rx_ready_o (s_rx_ready_o),
      .m_tx_data_o  (m_tx_data_o),
      .m_tx_valid_o (m_tx_valid_o),
      .m_tx_ready_i (m_tx_ready_i),
      .m_cmd_data_o (m_cmd_data_o),
      .m_cmd_valid_o(m_cmd_valid_o),
      .m_cmd_ready_i(m_cmd_ready_i),
      .s_rsp_data_i (s_rsp_data_i),
      .s_rsp_valid_i(s_rsp_valid_i),
      .s_rsp_ready_o(s_rsp_ready_o),
      .s_vd_valid_i (s_vd_valid_i),
      .s_vd_ok_i    (s_vd_ok_i),
      .s_vd_bytes_i (s_vd_bytes_i),
      .core_rst_o   (core_rst_o),
      .rx_active_o  (rx_active_o),
      .tx_active_o  (tx_active_o),
      .idle_o       (idle_o),
      .error_o      (error_o)
  );

  // ---- views inside the link ---------------------------------------------------
  (* keep *) wire f_obs_ev, f_obs_ev_sof, f_obs_ev_valid;  // decoder -> parser
  (* keep *) wire f_obs_flush, f_obs_rst_push;
  (* keep *) wire [2:0] f_obs_flush_cnt;
  (* keep *) wire f_obs_in, f_obs_got, f_obs_lerr, f_obs_ovf;
  (* keep *) wire [6:0] f_obs_cnt;  // the link's CN_W = clog2(64 + 10) bits
  (* keep *) wire [TMO_W-1:0] f_obs_tmo;
  (* keep *) wire [RB_W:0] f_obs_wr, f_obs_cm;
  (* keep *) wire f_obs_rxq_push, f_obs_rxq_ready;
  (* keep *) wire [2:0] f_obs_rxq_count;
  (* keep *) wire f_obs_frame_ok;  // a frame checked good (CRC, length, sequence)
  (* keep *) wire f_obs_dec_ready, f_obs_dec_zpend;  // decoder input ready, zero pending
  (* keep *) wire [3:0] f_obs_rxf_count;
  (* keep *) wire [3:0] f_obs_crc_left;  // bits the receive CRC still folds in

  reg f_init = 1'b1;
  always @(posedge clk) f_init <= 1'b0;
  always @(*) if (f_init) assume (rst_i);
  always @(*) if (!f_init) assume (!rst_i);  // reset only at the start

  // ---- harness counters ----------------------------------------------------------
  reg [3:0] f_ev_blocked;  // clocks in a row with a decoded byte refused
  reg [4:0] f_rx_blocked;  // clocks in a row with s_rx_ready_o low
  reg [7:0] f_quiet;  // clocks since the parser's last event (saturating)
  reg f_sof;  // last clock: a start marker reached the parser
  always @(posedge clk) begin
    if (f_obs_ev_valid && !f_obs_ev) begin
      if (f_ev_blocked != 4'hF) f_ev_blocked <= f_ev_blocked + 4'd1;
    end else f_ev_blocked <= 4'd0;
    if (!s_rx_ready_o) begin
      if (f_rx_blocked != 5'h1F) f_rx_blocked <= f_rx_blocked + 5'd1;
    end else f_rx_blocked <= 5'd0;
    if (f_obs_ev) f_quiet <= 8'd0;
    else if (f_quiet != 8'hFF) f_quiet <= f_quiet + 8'd1;
    f_sof <= f_obs_ev && f_obs_ev_sof;
    if (f_init) begin
      f_ev_blocked <= 4'd0;
      f_rx_blocked <= 5'd0;
      f_quiet      <= 8'd0;
      f_sof        <= 1'b0;
    end
  end

  // ---- properties ------------------------------------------------------------------
  always @(*) begin
    if (!f_init) begin
      // never stuck
      assert (f_ev_blocked <= 4'd8);
      assert (f_rx_blocked <= RX_BLOCK_MAX);
      // back to idle: the timeout counter is the clocks since the last event
      if (f_obs_in) begin
        assert (f_obs_tmo <= TIMEOUT_CYCLES - 1);
        assert ({1'b0, f_obs_tmo} == f_quiet);
      end
      assert (rx_active_o == f_obs_in);
      // resynchronisation at every marker
      if (f_sof) begin
        assert (f_obs_in && !f_obs_got && f_obs_cnt == 7'd0 && !f_obs_lerr && !f_obs_ovf);
        assert (f_obs_wr == f_obs_cm);
      end
      // frame queue
      if (f_obs_rxq_push) assert (f_obs_rxq_ready);
      assert (f_obs_rxq_count <= RXQ_DEPTH);
    end
  end

  // ---- induction strengthening -----------------------------------------------------
  always @(*) begin
    if (!f_init) begin
      // the flush of a RESET: 4 clocks, then one clock to queue its answer
      if (f_obs_flush) assert (f_obs_flush_cnt >= 3'd1 && f_obs_flush_cnt <= 3'd4);
      if (f_obs_flush) assert (f_ev_blocked <= 4'd4 - f_obs_flush_cnt);
      if (!f_obs_flush && f_obs_rst_push) assert (f_ev_blocked <= 4'd4);
      if (f_obs_flush) assert (f_obs_rst_push);
      // the CRC: 8 clocks a byte, never during a flush (a frame ends on a
      // CRC byte, which the CRC does not take)
      assert (f_obs_crc_left <= 4'd8);
      if (f_obs_crc_left != 4'd0) assert (f_ev_blocked <= 4'd8 - f_obs_crc_left);
      if (f_obs_flush || f_obs_rst_push) assert (f_obs_crc_left == 4'd0);
      if (!f_obs_in) assert (f_obs_wr == f_obs_cm);  // no uncommitted bytes
      assert (f_obs_rxf_count <= 4'd8);
      if (f_rx_blocked != 5'd0) assert (f_obs_rxf_count >= 4'd7);
      if (f_obs_dec_zpend) assert (!f_obs_dec_ready);
    end
  end

  always @(posedge clk) begin
    if (!f_init) begin
      cover (f_obs_frame_ok);  // a frame checked good
      cover (f_rx_blocked == RX_BLOCK_MAX);
    end
  end

endmodule

`default_nettype wire
