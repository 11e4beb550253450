// SPDX-License-Identifier: Apache-2.0
// tb_crc: qa_crc32 against the published CRC-32/ISO-HDLC check values that
// tests/test_proto.c uses for the host code (the same as Python's
// zlib.crc32): "123456789" -> CBF43926, "" -> 0, "a", "abc", the fox
// sentence, 32 zero bytes, 32 0xFF bytes; bytes with idle clocks between
// them; and a new message started by init_i together with its first byte.
// BITS is the CRC's bits per clock (test_link.sh runs 1, 2, 4 and 8). A byte
// is offered only while busy_o is low, and busy_o must fall exactly 8/BITS
// clocks after each byte (otherwise the case fails).
`timescale 1ns / 1ps
`default_nettype none

module tb_crc #(
    parameter integer BITS = 1
);
  reg clk = 1'b0;
  always #5 clk = ~clk;

  reg rst = 1'b1, init = 1'b0, valid = 1'b0;
  reg [7:0] data = 8'd0;
  wire [31:0] crc;
  wire busy;
  integer pass = 0, fail = 0;
  integer slow = 0;  // bytes whose folding took more than 8 clocks

  qa_crc32 #(
      .BITS(BITS)
  ) u_dut (
      .clk_i  (clk),
      .rst_i  (rst),
      .init_i (init),
      .valid_i(valid),
      .data_i (data),
      .crc_o  (crc),
      .busy_o (busy)
  );

  // wait until the byte taken at the last edge is folded in
  task settle;
    integer c;
    begin
      c = 0;
      while (busy === 1'b1 && c < 20) begin
        @(negedge clk);
        c = c + 1;
      end
      if (c != 8 / BITS || busy !== 1'b0) slow = slow + 1;
    end
  endtask

  reg [8*64-1:0] msg;

  // feed msg[0 .. n-1] (first character in the top byte of the used part);
  // gaps: idle clocks after each byte; first byte together with init_i
  task run;
    input [8*64-1:0] text;
    input integer n;
    input integer gaps;
    input [31:0] want;
    input [8*32-1:0] name;
    integer k, g;
    begin
      @(negedge clk);
      init = 1'b1;
      valid = 1'b0;
      for (k = 0; k < n; k = k + 1) begin
        data  = text[8*(n-1-k)+:8];
        valid = 1'b1;
        @(negedge clk);
        init  = 1'b0;
        valid = 1'b0;
        settle;
        for (g = 0; g < gaps; g = g + 1) @(negedge clk);
      end
      if (n == 0) begin
        @(negedge clk);
        init = 1'b0;
      end
      check(want, name);
    end
  endtask

  task check;
    input [31:0] want;
    input [8*32-1:0] name;
    begin
      if (crc === want && busy === 1'b0 && slow == 0) begin
        pass = pass + 1;
        $display("PASS %0s", name);
      end else begin
        fail = fail + 1;
        $display("FAIL %0s: got %08x want %08x (busy %b, %0d slow bytes)", name, crc, want,
                 busy, slow);
      end
      slow = 0;
    end
  endtask

  // n bytes of one value
  task run_fill;
    input [7:0] v;
    input integer n;
    input [31:0] want;
    input [8*32-1:0] name;
    integer k;
    begin
      @(negedge clk);
      init = 1'b1;
      for (k = 0; k < n; k = k + 1) begin
        data  = v;
        valid = 1'b1;
        @(negedge clk);
        init  = 1'b0;
        valid = 1'b0;
        settle;
      end
      @(negedge clk);
      check(want, name);
    end
  endtask


  initial begin
    repeat (2) @(negedge clk);
    rst = 1'b0;
    run("123456789", 9, 0, 32'hCBF43926, "crc32_check_123456789");
    run("123456789", 9, 3, 32'hCBF43926, "crc32_check_with_idle_clocks");
    run("", 0, 0, 32'h00000000, "crc32_empty");
    run("a", 1, 0, 32'hE8B7BE43, "crc32_a");
    run("abc", 3, 0, 32'h352441C2, "crc32_abc");
    run("The quick brown fox jumps over the lazy dog", 43, 0, 32'h414FA339, "crc32_fox");
    run_fill(8'h00, 32, 32'h190A55AD, "crc32_32_zero_bytes");
    run_fill(8'hFF, 32, 32'hFF6CAB0B, "crc32_32_ff_bytes");
    // back to back: the previous message's state must not leak into the next
    run("abc", 3, 0, 32'h352441C2, "crc32_init_restarts");
    $display("%0d passed, %0d failed", pass, fail);
    $finish;
  end

endmodule

`default_nettype wire
