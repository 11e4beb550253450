// SPDX-License-Identifier: Apache-2.0
// tb_core: replays a recorded session of qa_core under Icarus Verilog, cycle
// for cycle, and compares every response byte with the recording.
//
// The recording comes from the Verilator model (test_rtl --record PREFIX):
// PREFIX.cmd.hex holds "CYCLE BYTE" per accepted command byte and
// PREFIX.rsp.hex one "BYTE" per response byte (hex). The bench holds reset
// for cycles 0-3 as the Verilator driver does, offers each command byte in
// the cycle the recording accepted it, keeps the response ready high, and
// checks that the same bytes come back - including the cycle and stall
// counters, which only match if both simulators agree on every cycle. A
// second, independent simulator thus cross-checks the cycle-accurate model.
//
// plusargs: +cmd=FILE +rsp=FILE [+timeout=CYCLES]
`default_nettype none

module tb_core;
  parameter integer ROWS = 4;  // array shape of the recorded model
  parameter integer COLS = 4;
  localparam integer MAX_BYTES = 1 << 22;

  reg clk = 1'b0;
  always #5 clk = ~clk;

  reg [7:0] cmd_mem[0:MAX_BYTES-1];
  reg [31:0] cmd_cyc[0:MAX_BYTES-1];
  reg [7:0] rsp_mem[0:MAX_BYTES-1];
  integer n_cmd, n_rsp;

  reg rst = 1'b1;
  reg [7:0] s_data = 8'd0;
  reg s_valid = 1'b0;
  wire s_ready;
  wire [7:0] m_data;
  wire m_valid;
  reg m_ready = 1'b0;
  wire busy, error;

  qa_core #(
      .ROWS(ROWS),
      .COLS(COLS)
  ) u_dut (
      .clk_i        (clk),
      .rst_i        (rst),
      .s_cmd_data_i (s_data),
      .s_cmd_valid_i(s_valid),
      .s_cmd_ready_o(s_ready),
      .m_rsp_data_o (m_data),
      .m_rsp_valid_o(m_valid),
      .m_rsp_ready_i(m_ready),
      .busy_o       (busy),
      .error_o      (error)
  );

  reg [8*1024-1:0] cmd_path, rsp_path;
  integer timeout, fd, code, c, v;

  initial begin
    if (!$value$plusargs("cmd=%s", cmd_path) || !$value$plusargs("rsp=%s", rsp_path)) begin
      $display("tb_core: usage: +cmd=FILE +rsp=FILE [+timeout=CYCLES]");
      $finish;
    end
    if (!$value$plusargs("timeout=%d", timeout)) timeout = 2000000;
    n_cmd = 0;
    fd = $fopen(cmd_path, "r");
    if (fd == 0) begin
      $display("tb_core: FAIL cannot open %0s", cmd_path);
      $finish;
    end
    code = $fscanf(fd, "%h %h\n", c, v);
    while (code == 2 && n_cmd < MAX_BYTES) begin
      cmd_cyc[n_cmd] = c;
      cmd_mem[n_cmd] = v[7:0];
      n_cmd = n_cmd + 1;
      code = $fscanf(fd, "%h %h\n", c, v);
    end
    $fclose(fd);
    n_rsp = 0;
    fd = $fopen(rsp_path, "r");
    if (fd == 0) begin
      $display("tb_core: FAIL cannot open %0s", rsp_path);
      $finish;
    end
    code = $fscanf(fd, "%h\n", v);
    while (code == 1 && n_rsp < MAX_BYTES) begin
      rsp_mem[n_rsp] = v[7:0];
      n_rsp = n_rsp + 1;
      code = $fscanf(fd, "%h\n", v);
    end
    $fclose(fd);
    $display("tb_core: %0dx%0d, %0d command bytes, %0d response bytes recorded", ROWS, COLS,
             n_cmd, n_rsp);
  end

  // cyc is the index of the cycle in progress; at each edge, check the
  // handshakes of the cycle that ended, then set the inputs of the next.
  integer cyc = 0, ci = 0, ri = 0, mismatches = 0, late = 0;
  always @(posedge clk) begin
    if (s_valid && s_ready) begin
      if (cmd_cyc[ci] != cyc) late = late + 1;
      ci = ci + 1;
    end
    if (m_valid && m_ready) begin
      if (ri >= n_rsp || m_data !== rsp_mem[ri]) begin
        if (mismatches < 10)
          $display("tb_core: MISMATCH response byte %0d (cycle %0d): got %02x, recorded %02x", ri,
                   cyc, m_data, rsp_mem[ri]);
        mismatches = mismatches + 1;
      end
      ri = ri + 1;
    end
    if (ci == n_cmd && ri >= n_rsp && !busy) begin
      if (mismatches == 0 && late == 0)
        $display("tb_core: PASS all %0d response bytes match, every command byte accepted in its recorded cycle (%0d cycles)",
                 n_rsp, cyc);
      else
        $display("tb_core: FAIL %0d mismatching response bytes, %0d command bytes accepted in another cycle",
                 mismatches, late);
      $finish;
    end
    if (cyc > timeout) begin
      $display("tb_core: FAIL timeout: %0d of %0d command bytes sent, %0d of %0d responses", ci,
               n_cmd, ri, n_rsp);
      $finish;
    end
    cyc = cyc + 1;
    rst <= (cyc < 4);
    m_ready <= (cyc >= 4);
    s_valid <= (cyc >= 4) && (ci < n_cmd) && (cmd_cyc[ci] <= cyc);
    s_data <= cmd_mem[ci];
  end

endmodule

`default_nettype wire
