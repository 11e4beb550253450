// SPDX-License-Identifier: Apache-2.0
// tb_chip: drives qa_chip through its UART pins, bit by bit, from a script,
// and records every byte the chip sends back.
//
// The script (+script=FILE) is written by tests/linkvec.c; one "KIND VALUE"
// line per step, VALUE in hex:
//   0 BB    send byte BB, 8N1, at the sender's current bit time
//   1 N     leave the line idle for N bit times
//   2 N     barrier: wait until neither side has sent anything for N bit
//           times (all responses are in)
//   3 BB    send byte BB with a low stop bit (a framing error)
//   4 P     set the sender's bit time to P ppm of the nominal 1/BAUD
// Received bytes go to +out=FILE, one per line in hex, prefixed with '!' when
// the stop bit was low; a last line "# busy SEEN END" tells whether the
// chip's busy_o was ever high and whether it is high at the end. Bits are timed in real time (1 ps resolution), so the
// chip's clock and the line are as independent as on a board.
// +maxbits=N stops a run that takes longer than N bit times (default 4e6).
`timescale 1ps / 1ps
`default_nettype none

module tb_chip;
  parameter integer ROWS = 4;
  parameter integer COLS = 4;
  parameter integer CLK_HZ = 48000000;
  parameter integer BAUD = 12000000;
  parameter integer MAX_PAYLOAD = 64;
  parameter integer RXBUF_BYTES = 256;
  parameter integer RXQ_DEPTH = 8;
  parameter integer TIMEOUT_CYCLES = 4000;
  parameter integer NL_MAX = 16;
  localparam integer MAX_STEPS = 1 << 18;

  real clk_half = 1.0e12 / CLK_HZ / 2.0;
  real bit_ps = 1.0e12 / BAUD;
  real send_bit = 1.0e12 / BAUD;

  reg clk = 1'b0;
  always #(clk_half) clk = ~clk;

  reg rst = 1'b1;
  reg line_in = 1'b1;
  wire line_out;
  wire led_hb, led_busy, led_err, chip_busy;

  qa_chip #(
      .ROWS          (ROWS),
      .COLS          (COLS),
      .CLK_HZ        (CLK_HZ),
      .BAUD          (BAUD),
      .MAX_PAYLOAD   (MAX_PAYLOAD),
      .RXBUF_BYTES   (RXBUF_BYTES),
      .NL_MAX        (NL_MAX),
      .RXQ_DEPTH     (RXQ_DEPTH),
      .TIMEOUT_CYCLES(TIMEOUT_CYCLES)
  ) u_chip (
      .clk_i          (clk),
      .rst_i          (rst),
      .uart_rx_i      (line_in),
      .uart_tx_o      (line_out),
      .led_heartbeat_o(led_hb),
      .led_busy_o     (led_busy),
      .led_error_o    (led_err),
      .busy_o         (chip_busy)
  );

  // ---- script -------------------------------------------------------------------
  reg [3:0] kind[0:MAX_STEPS-1];
  reg [31:0] value[0:MAX_STEPS-1];
  integer n_steps;
  reg [8*1024-1:0] script_path, out_path;
  integer fd, code, k, v, fout, maxbits;

  // ---- receiver on uart_tx_o ----------------------------------------------------
  integer n_rx = 0, n_rx_bad = 0;
  reg rx_busy = 1'b0;
  real last_activity = 0.0;
  reg [7:0] rx_byte;
  integer b;
  always @(negedge line_out) begin
    if (!rx_busy && !rst) begin
      rx_busy = 1'b1;
      #(bit_ps / 2.0);
      if (line_out == 1'b0) begin
        for (b = 0; b < 8; b = b + 1) begin
          #(bit_ps);
          rx_byte[b] = line_out;
        end
        #(bit_ps);
        if (line_out == 1'b1) begin
          $fdisplay(fout, "%02x", rx_byte);
        end else begin
          $fdisplay(fout, "!%02x", rx_byte);
          n_rx_bad = n_rx_bad + 1;
        end
        n_rx = n_rx + 1;
      end
      last_activity = $realtime;
      rx_busy = 1'b0;
    end
  end

  task send_byte;
    input [7:0] data;
    input stop;
    integer i;
    begin
      line_in = 1'b0;
      #(send_bit);
      for (i = 0; i < 8; i = i + 1) begin
        line_in = data[i];
        #(send_bit);
      end
      line_in = stop;
      #(send_bit);
      line_in = 1'b1;
      if (!stop) #(send_bit);
      last_activity = $realtime;
    end
  endtask

  task barrier;
    input integer nbits;
    begin
      #(bit_ps);
      while (rx_busy || ($realtime - last_activity) < nbits * bit_ps) #(bit_ps);
    end
  endtask

  reg busy_seen = 1'b0;
  always @(posedge clk) if (chip_busy) busy_seen <= 1'b1;

  integer s;
  initial begin
    if (!$value$plusargs("script=%s", script_path) || !$value$plusargs("out=%s", out_path)) begin
      $display("tb_chip: usage: +script=FILE +out=FILE [+maxbits=N]");
      $finish;
    end
    if (!$value$plusargs("maxbits=%d", maxbits)) maxbits = 4000000;
    fd = $fopen(script_path, "r");
    if (fd == 0) begin
      $display("tb_chip: FAIL cannot open %0s", script_path);
      $finish;
    end
    n_steps = 0;
    code = $fscanf(fd, "%d %h\n", k, v);
    while (code == 2 && n_steps < MAX_STEPS) begin
      kind[n_steps]  = k[3:0];
      value[n_steps] = v;
      n_steps = n_steps + 1;
      code = $fscanf(fd, "%d %h\n", k, v);
    end
    $fclose(fd);
    fout = $fopen(out_path, "w");
    $display("tb_chip: %0dx%0d, %0d Hz, %0d baud, %0d script steps", ROWS, COLS, CLK_HZ, BAUD,
             n_steps);
    repeat (8) @(posedge clk);
    rst = 1'b0;
    repeat (8) @(posedge clk);
    for (s = 0; s < n_steps; s = s + 1) begin
      case (kind[s])
        4'd0: send_byte(value[s][7:0], 1'b1);
        4'd1: #(value[s] * bit_ps);
        4'd2: barrier(value[s]);
        4'd3: send_byte(value[s][7:0], 1'b0);
        4'd4: send_bit = bit_ps * value[s] / 1.0e6;
        default: ;
      endcase
    end
    barrier(400);
    $fdisplay(fout, "# busy %0d %0d", busy_seen, chip_busy);
    $fclose(fout);
    $display("tb_chip: done, %0d bytes received (%0d with a bad stop bit), %0.0f bit times",
             n_rx, n_rx_bad, $realtime / bit_ps);
    $finish;
  end

  initial begin
    #(1.0);
    if (!$value$plusargs("maxbits=%d", maxbits)) maxbits = 4000000;
    #(maxbits * bit_ps);
    $display("tb_chip: FAIL timeout after %0d bit times", maxbits);
    $finish;
  end

endmodule

`default_nettype wire
