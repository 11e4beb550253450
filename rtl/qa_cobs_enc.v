// SPDX-License-Identifier: Apache-2.0
// qa_cobs_enc: turns frame bodies into wire frames: a start marker 0x00, then
// the body with COBS stuffing (docs/protocol.md, section 1).
//
// Input s_*: body bytes; s_last_i marks the last byte of a body. Output m_*:
// wire bytes. Both valid/ready with AXI-Stream rules.
//
// A group's code byte gives the length of the run that follows it, so the
// encoder collects a run of up to 254 non-zero bytes in a 256-byte RAM and
// then writes the code and the run. A run ends at a zero byte (consumed, its
// code says so), at 254 bytes, or at the end of the body; nothing follows the
// group that ends the body. Collecting (one byte per clock, input ready) and
// writing (output valid) alternate, so the output pauses for as many clocks as
// the next run takes to arrive; a small FIFO after the encoder hides that from
// a UART, which needs 10*DIV clocks per byte.
// Wire bytes per body of n bytes: 1 + n + (groups not ended by a zero), at
// most 1 + n + ceil(n/254).
`default_nettype none

module qa_cobs_enc (
    input  wire       clk_i,
    input  wire       rst_i,
    input  wire [7:0] s_data_i,
    input  wire       s_last_i,
    input  wire       s_valid_i,
    output wire       s_ready_o,
    output wire [7:0] m_data_o,
    output wire       m_valid_o,
    input  wire       m_ready_i
);

  localparam [2:0] E_IDLE = 3'd0;  // between frames
  localparam [2:0] E_SOF = 3'd1;  // sending the start marker
  localparam [2:0] E_COLLECT = 3'd2;  // taking body bytes into the run buffer
  localparam [2:0] E_CODE = 3'd3;  // sending the run's code byte
  localparam [2:0] E_DATA = 3'd4;  // sending the run

  reg [2:0] state_q;
  reg [7:0] cnt_q;  // bytes in the run buffer (0..254)
  reg [7:0] idx_q;  // next run byte to send
  reg end_q;  // this run ends the body

  wire m_fire = m_valid_o && m_ready_i;
  assign s_ready_o = (state_q == E_COLLECT);
  wire s_fire = s_valid_i && s_ready_o;
  wire s_zero = (s_data_i == 8'h00);

  always @(posedge clk_i) begin
    if (rst_i) begin
      state_q <= E_IDLE;
      cnt_q   <= 8'd0;
      idx_q   <= 8'd0;
      end_q   <= 1'b0;
    end else begin
      case (state_q)
        E_IDLE: begin
          if (s_valid_i) state_q <= E_SOF;
        end
        E_SOF: begin
          if (m_fire) begin
            state_q <= E_COLLECT;
            cnt_q   <= 8'd0;
          end
        end
        E_COLLECT: begin
          if (s_fire) begin
            end_q <= s_last_i;
            if (!s_zero) cnt_q <= cnt_q + 8'd1;
            if (s_zero || s_last_i || cnt_q == 8'd253) state_q <= E_CODE;
          end
        end
        E_CODE: begin
          if (m_fire) begin
            idx_q <= 8'd0;
            if (cnt_q != 8'd0) state_q <= E_DATA;
            else state_q <= end_q ? E_IDLE : E_COLLECT;
          end
        end
        default: begin  // E_DATA
          if (m_fire) begin
            idx_q <= idx_q + 8'd1;
            if (idx_q == cnt_q - 8'd1) begin
              cnt_q   <= 8'd0;
              state_q <= end_q ? E_IDLE : E_COLLECT;
            end
          end
        end
      endcase
    end
  end

  // run buffer; the read address runs one step ahead so that rd_data shows
  // run byte idx_q while in E_DATA
  wire [7:0] rd_data;
  wire [7:0] rd_addr = (state_q != E_DATA) ? 8'd0 : (m_fire ? idx_q + 8'd1 : idx_q);

  qa_ram #(
      .WIDTH (8),
      .DEPTH (256),
      .ADDR_W(8)
  ) u_run (
      .clk_i    (clk_i),
      .wr_en_i  (s_fire && !s_zero),
      .wr_addr_i(cnt_q),
      .wr_data_i(s_data_i),
      .rd_en_i  (1'b1),
      .rd_addr_i(rd_addr),
      .rd_data_o(rd_data)
  );

  assign m_valid_o = (state_q == E_SOF) || (state_q == E_CODE) || (state_q == E_DATA);
  assign m_data_o = (state_q == E_CODE) ? cnt_q + 8'd1 : (state_q == E_DATA) ? rd_data : 8'h00;

endmodule

`default_nettype wire
