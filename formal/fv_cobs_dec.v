// SPDX-License-Identifier: Apache-2.0
// fv_cobs_dec: formal harness for rtl/qa_cobs_dec.v.
//
// Task `live` (every input free on every clock: bytes, framing-error flags,
// valid, ready, reset; unbounded, k-induction):
//   - output stream rule: while m_valid_o && !m_ready_i, m_valid_o and the
//     event (m_data_o, m_sof_o, m_dat_o, m_err_o) hold;
//   - never stuck: with the sink ready, s_ready_o is low for at most 3
//     clocks in a row (an event, then an implied zero);
//   - nothing lost: every byte taken inside a frame, and every start marker,
//     gives exactly one event on the next clock (the event register is empty
//     whenever a byte is taken), an implied zero always goes out, a byte
//     outside a frame gives none;
//   - resynchronisation: a start marker (0x00 without a framing error) is
//     taken in any state, gives an m_sof_o event and leaves the decoder in
//     one fixed state (inside a frame, expecting a code byte, nothing
//     pending), so whatever came before a marker cannot affect the next frame.
// Task `roundtrip` (bounded): rtl/qa_cobs_enc.v encodes a free body of 1 to
// BODY_MAX bytes (zeros included) and the decoder, fed with the encoder's
// output, gives a start marker and then the body bytes, in order.
// f_obs_* wires look inside the decoder; the .sby script connects them.
`default_nettype none

module fv_cobs_dec #(
    parameter integer BODY_MAX = 4  // roundtrip: longest body
) (
    input wire       clk,
    input wire       rst_i,
    input wire [7:0] s_data_i,
    input wire       s_err_i,
    input wire       s_valid_i,
    input wire       m_ready_i,
    input wire [31:0] f_body_i,   // roundtrip: the body, byte n at [8n +: 8]
    input wire [2:0]  f_len_i     // roundtrip: its length
);

  wire [7:0] dec_data;
  wire dec_err, dec_valid, s_ready_o;
  wire [7:0] m_data_o;
  wire m_sof_o, m_dat_o, m_err_o, m_valid_o, busy_o;

  qa_cobs_dec u_dut (
      .clk_i    (clk),
      .rst_i    (rst_i),
      .s_data_i (dec_data),
      .s_err_i  (dec_err),
      .s_valid_i(dec_valid),
      .s_ready_o(s_ready_o),
      .m_data_o (m_data_o),
      .m_sof_o  (m_sof_o),
      .m_dat_o  (m_dat_o),
      .m_err_o  (m_err_o),
      .m_valid_o(m_valid_o),
      .m_ready_i(m_ready_i),
      .busy_o   (busy_o)
  );

  (* keep *) wire f_obs_in_frame, f_obs_ff, f_obs_zpend;
  (* keep *) wire [7:0] f_obs_left;

  reg f_init = 1'b1;
  always @(posedge clk) f_init <= 1'b0;
  always @(*) if (f_init) assume (rst_i);

`ifdef FV_ROUNDTRIP
  // ---- encoder -> decoder ------------------------------------------------------
  reg [31:0] f_body;
  reg [2:0] f_len;
  reg [2:0] f_sent;  // body bytes given to the encoder
  reg [2:0] f_seen;  // body bytes that came out of the decoder
  reg f_sof_seen;
  always @(*) begin
    assume (!rst_i || f_init);
    assume (m_ready_i);
  end
  always @(posedge clk) if (f_init) begin
    f_body <= f_body_i;
    f_len  <= f_len_i;
  end
  always @(*) if (!f_init) assume (f_len >= 3'd1 && f_len <= BODY_MAX);

  wire enc_ready;
  wire enc_valid = !f_init && (f_sent < f_len);
  wire [7:0] enc_byte = f_body[f_sent*8+:8];
  qa_cobs_enc u_enc (
      .clk_i    (clk),
      .rst_i    (rst_i),
      .s_data_i (enc_byte),
      .s_last_i (f_sent == f_len - 3'd1),
      .s_valid_i(enc_valid),
      .s_ready_o(enc_ready),
      .m_data_o (dec_data),
      .m_valid_o(dec_valid),
      .m_ready_i(s_ready_o)
  );
  assign dec_err = 1'b0;

  always @(posedge clk) begin
    if (f_init) begin
      f_sent     <= 3'd0;
      f_seen     <= 3'd0;
      f_sof_seen <= 1'b0;
    end else begin
      if (enc_valid && enc_ready) f_sent <= f_sent + 3'd1;
      if (m_valid_o && m_sof_o) f_sof_seen <= 1'b1;
      if (m_valid_o && m_dat_o && f_sof_seen && f_seen < f_len) f_seen <= f_seen + 3'd1;
    end
  end

  always @(*) begin
    if (!f_init && m_valid_o) begin
      if (!f_sof_seen) assert (m_sof_o);  // the frame starts with its marker
      else assert (!m_sof_o && !m_err_o);  // one marker per frame
      if (m_dat_o && f_sof_seen && f_seen < f_len) assert (m_data_o == f_body[f_seen*8+:8]);
    end
  end
  always @(posedge clk) cover (!f_init && f_len == BODY_MAX && f_seen == f_len);
`else
  assign dec_data  = s_data_i;
  assign dec_err   = s_err_i;
  assign dec_valid = s_valid_i;

  wire take = s_valid_i && s_ready_o;
  wire marker = take && !s_err_i && (s_data_i == 8'h00);

  // ---- last clock, as seen by the harness -----------------------------------------
  reg f_stall, f_marker, f_frame_byte, f_out_byte, f_zero_due, f_no_rst;
  reg [11:0] f_stall_ev;
  reg [7:0] f_byte;
  reg f_byte_err, f_was_code;
  reg [2:0] f_blocked;  // clocks in a row with s_ready_o low and m_ready_i high
  always @(posedge clk) begin
    f_no_rst     <= !rst_i;
    f_stall      <= m_valid_o && !m_ready_i;
    f_stall_ev   <= {m_data_o, m_sof_o, m_dat_o, m_err_o, 1'b1};
    f_marker     <= marker;
    f_frame_byte <= take && !marker && f_obs_in_frame;
    f_out_byte   <= take && !marker && !f_obs_in_frame;
    f_was_code   <= (f_obs_left == 8'd0);
    f_byte       <= s_data_i;
    f_byte_err   <= s_err_i;
    f_zero_due   <= f_obs_zpend && !m_valid_o && !take;
    if (rst_i || s_ready_o || !m_ready_i) f_blocked <= 3'd0;
    else if (f_blocked != 3'd7) f_blocked <= f_blocked + 3'd1;
  end

  always @(*) begin
    if (!f_init && f_no_rst) begin
      if (f_stall) begin
        assert (m_valid_o);
        assert ({m_data_o, m_sof_o, m_dat_o, m_err_o, 1'b1} == f_stall_ev);
      end
      if (f_marker) begin
        assert (m_valid_o && m_sof_o && !m_dat_o && !m_err_o);
        assert (f_obs_in_frame && f_obs_left == 8'd0 && !f_obs_ff && !f_obs_zpend);
      end
      if (f_frame_byte) begin
        assert (m_valid_o && !m_sof_o && m_err_o == f_byte_err);
        // a data byte comes out as it is; a code byte only says "zero" (code 1)
        if (!f_was_code) assert (m_dat_o && m_data_o == f_byte);
        else assert (m_dat_o == (f_byte == 8'h01) && m_data_o == 8'h00);
      end
      if (f_out_byte) assert (!m_valid_o);
      if (f_zero_due) assert (m_valid_o && m_dat_o && m_data_o == 8'h00 && !m_sof_o);
    end
    if (!f_init) begin
      assert (f_blocked <= 3'd3);
      assert (busy_o == (m_valid_o || f_obs_zpend));
      assert (s_ready_o == !busy_o);
      if (f_obs_zpend) assert (f_obs_in_frame);
      if (!f_obs_in_frame) assert (f_obs_left == 8'd0 && !f_obs_zpend);
    end
  end

  always @(posedge clk) begin
    if (!f_init) begin
      cover (f_blocked == 3'd3);
      cover (f_frame_byte && f_was_code && f_byte == 8'hFF);
    end
  end
`endif

endmodule

`default_nettype wire
