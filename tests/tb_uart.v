// SPDX-License-Identifier: Apache-2.0
// tb_uart: qa_uart_tx -> qa_uart_rx at one clock and line rate, plus line
// faults from a behavioural driver with real-valued bit times.
//
// Checks (each prints PASS/FAIL; the last line is "N passed, N failed"):
//   loopback        256 bytes back to back, RTL transmitter to RTL receiver,
//                   all equal, no framing errors, exactly 10*DIV clocks each
//   rate_+-2%       the receiver against a sender 2% fast and 2% slow: the
//                   promised tolerance of qa_uart_rx
//   mismatch_rtl    a transmitter built for BAUD_MIS into the receiver: must
//                   show framing errors or wrong bytes, never a clean copy
//   mismatch_10%    the same with a behavioural sender 10% off
//   glitch          a low pulse of 0.2 bit is not a start bit
//   framing_error   a byte with a low stop bit is flagged, the next is clean
//   break           30 bit times of low line yield one flagged byte only
//   overrun         a byte arriving while the previous one waits is dropped
//                   and reported, the waiting byte survives
// parameters: CLK_HZ, BAUD, BAUD_MIS (a rate the transmitter can make
// that differs from BAUD by more than the receiver tolerates)
`timescale 1ps / 1ps
`default_nettype none

module tb_uart;
  parameter integer CLK_HZ = 48000000;
  parameter integer BAUD = 12000000;
  parameter integer BAUD_MIS = 9600000;
  localparam integer DIV = (CLK_HZ + BAUD / 2) / BAUD;
  localparam integer N = 256;

  real clk_half = 1.0e12 / CLK_HZ / 2.0;
  real bit_ps = 1.0e12 / BAUD;

  reg clk = 1'b0;
  always #(clk_half) clk = ~clk;

  reg rst = 1'b1;
  integer pass = 0, fail = 0;

  // line sources: 0 RTL tx at BAUD, 1 RTL tx at BAUD_MIS, 2 behavioural
  reg [1:0] sel = 2'd0;
  reg drv = 1'b1;
  wire tx_line, tx_mis_line;
  wire line = (sel == 2'd0) ? tx_line : (sel == 2'd1) ? tx_mis_line : drv;

  reg [7:0] tx_data = 8'd0;
  reg tx_valid = 1'b0, tx_mis_valid = 1'b0;
  wire tx_ready, tx_mis_ready, tx_busy, tx_mis_busy;

  qa_uart_tx #(
      .CLK_HZ(CLK_HZ),
      .BAUD  (BAUD)
  ) u_tx (
      .clk_i    (clk),
      .rst_i    (rst),
      .s_data_i (tx_data),
      .s_valid_i(tx_valid),
      .s_ready_o(tx_ready),
      .tx_o     (tx_line),
      .busy_o   (tx_busy)
  );

  qa_uart_tx #(
      .CLK_HZ(CLK_HZ),
      .BAUD  (BAUD_MIS)
  ) u_tx_mis (
      .clk_i    (clk),
      .rst_i    (rst),
      .s_data_i (tx_data),
      .s_valid_i(tx_mis_valid),
      .s_ready_o(tx_mis_ready),
      .tx_o     (tx_mis_line),
      .busy_o   (tx_mis_busy)
  );

  wire [7:0] rx_data;
  wire rx_err, rx_valid, rx_overrun, rx_busy;
  reg rx_ready = 1'b1;

  qa_uart_rx #(
      .CLK_HZ(CLK_HZ),
      .BAUD  (BAUD)
  ) u_rx (
      .clk_i    (clk),
      .rst_i    (rst),
      .rx_i     (line),
      .m_data_o (rx_data),
      .m_err_o  (rx_err),
      .m_valid_o(rx_valid),
      .m_ready_i(rx_ready),
      .overrun_o(rx_overrun),
      .busy_o   (rx_busy)
  );

  // everything the receiver delivers
  reg [7:0] got[0:4095];
  reg got_err[0:4095];
  integer n_got = 0, n_overrun = 0;
  always @(posedge clk) begin
    if (rx_valid && rx_ready) begin
      got[n_got] <= rx_data;
      got_err[n_got] <= rx_err;
      n_got <= n_got + 1;
    end
    if (rx_overrun) n_overrun <= n_overrun + 1;
  end

  // the bytes sent: all 256 values in a scrambled order
  reg [7:0] pattern[0:N-1];
  integer i;
  initial for (i = 0; i < N; i = i + 1) pattern[i] = (i * 167 + 13) % 256;

  task report;
    input ok;
    input [8*40-1:0] name;
    begin
      if (ok) begin
        pass = pass + 1;
        $display("PASS %0s", name);
      end else begin
        fail = fail + 1;
        $display("FAIL %0s", name);
      end
    end
  endtask

  task idle_bits;
    input real nbits;
    begin
      #(nbits * bit_ps);
    end
  endtask

  // behavioural 8N1 byte with a chosen bit time and stop level
  task drive_byte;
    input [7:0] b;
    input real bitp;
    input stop;
    integer k;
    begin
      drv = 1'b0;
      #(bitp);
      for (k = 0; k < 8; k = k + 1) begin
        drv = b[k];
        #(bitp);
      end
      drv = stop;
      #(bitp);
      drv = 1'b1;
    end
  endtask

  // count the received bytes that match pattern[] (from index 0) and errors
  integer matches, errors;
  task score;
    input integer expect_n;
    integer k;
    begin
      matches = 0;
      errors  = 0;
      for (k = 0; k < n_got; k = k + 1) begin
        if (got_err[k]) errors = errors + 1;
        else if (k < expect_n && got[k] == pattern[k]) matches = matches + 1;
      end
    end
  endtask

  integer t_first, t_last, cyc = 0;
  always @(posedge clk) cyc <= cyc + 1;

  task rtl_burst;
    input mis;
    integer k;
    begin
      for (k = 0; k < N; k = k + 1) begin
        @(negedge clk);
        tx_data = pattern[k];
        if (mis) tx_mis_valid = 1'b1;
        else tx_valid = 1'b1;
        @(posedge clk);
        while (!(mis ? tx_mis_ready : tx_ready)) @(posedge clk);
        if (k == 0) t_first = cyc;
        t_last = cyc;
        @(negedge clk);
        tx_valid = 1'b0;
        tx_mis_valid = 1'b0;
      end
      idle_bits(20.0);
    end
  endtask

  task behav_burst;
    input real bitp;
    integer k;
    begin
      for (k = 0; k < N; k = k + 1) drive_byte(pattern[k], bitp, 1'b1);
      idle_bits(20.0);
    end
  endtask

  task clear_got;
    begin
      @(negedge clk);
      n_got = 0;
      n_overrun = 0;
    end
  endtask

  initial begin
    $display("tb_uart: CLK_HZ %0d BAUD %0d (%0d clocks per bit), mismatched rate %0d", CLK_HZ,
             BAUD, DIV, BAUD_MIS);
    repeat (4) @(posedge clk);
    rst = 1'b0;
    repeat (4) @(posedge clk);

    // RTL loopback, back to back
    sel = 2'd0;
    clear_got;
    rtl_burst(1'b0);
    score(N);
    report(n_got == N && matches == N && errors == 0 && n_overrun == 0, "loopback_256_bytes");
    report(t_last - t_first == (N - 1) * 10 * DIV, "loopback_no_gap_between_bytes");

    // tolerance: a sender 2% fast, then 2% slow
    sel = 2'd2;
    clear_got;
    behav_burst(bit_ps * 0.98);
    score(N);
    report(n_got == N && matches == N && errors == 0, "rate_plus_2_percent");
    clear_got;
    behav_burst(bit_ps * 1.02);
    score(N);
    report(n_got == N && matches == N && errors == 0, "rate_minus_2_percent");

    // mismatched transmitter: never a clean copy
    sel = 2'd1;
    clear_got;
    rtl_burst(1'b1);
    score(N);
    $display("  mismatch_rtl: %0d bytes received, %0d framing errors, %0d correct", n_got, errors,
             matches);
    report(!(n_got == N && matches == N) && (errors > 0 || matches < N / 2),
           "mismatch_rtl_fails_loudly");
    sel = 2'd2;
    clear_got;
    behav_burst(bit_ps * 1.10);
    score(N);
    $display("  mismatch_10pct_slow: %0d bytes, %0d framing errors, %0d correct", n_got, errors,
             matches);
    report(!(n_got == N && matches == N) && (errors > 0 || matches < N / 2),
           "mismatch_10_percent_slow_fails_loudly");
    clear_got;
    behav_burst(bit_ps * 0.90);
    score(N);
    $display("  mismatch_10pct_fast: %0d bytes, %0d framing errors, %0d correct", n_got, errors,
             matches);
    report(!(n_got == N && matches == N) && (errors > 0 || matches < N / 2),
           "mismatch_10_percent_fast_fails_loudly");

    // a glitch is not a start bit; the byte after it is received intact
    clear_got;
    drv = 1'b0;
    #(0.2 * bit_ps);
    drv = 1'b1;
    idle_bits(3.0);
    drive_byte(8'hA5, bit_ps, 1'b1);
    idle_bits(3.0);
    report(n_got == 1 && got[0] == 8'hA5 && !got_err[0], "glitch_ignored");

    // a low stop bit is a framing error; the next byte is clean
    clear_got;
    drive_byte(8'h3C, bit_ps, 1'b0);
    idle_bits(2.0);
    drive_byte(8'hC3, bit_ps, 1'b1);
    idle_bits(3.0);
    report(n_got == 2 && got[0] == 8'h3C && got_err[0] && got[1] == 8'hC3 && !got_err[1],
           "framing_error_flagged");

    // a break: one flagged byte, then normal reception
    clear_got;
    drv = 1'b0;
    idle_bits(30.0);
    drv = 1'b1;
    idle_bits(2.0);
    drive_byte(8'h5A, bit_ps, 1'b1);
    idle_bits(3.0);
    report(n_got == 2 && got[0] == 8'h00 && got_err[0] && got[1] == 8'h5A && !got_err[1],
           "break_gives_one_flagged_byte");

    // overrun: the receiver's consumer stalls over two bytes
    clear_got;
    rx_ready = 1'b0;
    drive_byte(8'h11, bit_ps, 1'b1);
    drive_byte(8'h22, bit_ps, 1'b1);
    idle_bits(2.0);
    @(negedge clk);
    rx_ready = 1'b1;
    idle_bits(2.0);
    report(n_got == 1 && got[0] == 8'h11 && n_overrun == 1, "overrun_reported");

    $display("%0d passed, %0d failed", pass, fail);
    $finish;
  end

  // watchdog
  initial begin
    #(bit_ps * 10.0 * N * 12.0);
    $display("FAIL tb_uart_timeout");
    $display("%0d passed, %0d failed", pass, fail + 1);
    $finish;
  end

endmodule

`default_nettype wire
