// SPDX-License-Identifier: Apache-2.0
// tb_mul_reg: checks qa_mul_reg (the twin rtl/prim/qa_mul_reg.v, or the ECP5
// version rtl/prim/ecp5/qa_mul_reg.v over tests/mult18x18d_model.v): every
// pair of signed 8-bit operands, each presented on a clock with the enable
// high, then held on a random number of clocks with it low. After an enabled
// clock p_o must be the exact product; after a disabled one it must not move.
// Prints "tb_mul_reg: PASS <checks>" or the first mismatch.
`default_nettype none

module tb_mul_reg;
  reg clk = 1'b0;
  reg ce = 1'b0;
  reg signed [7:0] a = 8'sd0, b = 8'sd0;
  wire signed [15:0] p;
  integer seed = 1;
  integer i, j, k, holds, checks = 0, errors = 0;
  reg signed [15:0] want;

  qa_mul_reg #(
      .W(8)
  ) dut (
      .clk_i(clk),
      .ce_i (ce),
      .a_i  (a),
      .b_i  (b),
      .p_o  (p)
  );

  task tick;
    begin
      #1 clk = 1'b1;
      #1 clk = 1'b0;
    end
  endtask

  initial begin
    if (!$value$plusargs("seed=%d", seed)) seed = 1;
    for (i = -128; i < 128; i = i + 1) begin
      for (j = -128; j < 128; j = j + 1) begin
        a = i;
        b = j;
        ce = 1'b1;
        want = i * j;
        tick;
        checks = checks + 1;
        if (p !== want && errors < 5) begin
          $display("tb_mul_reg: FAIL %0d * %0d gave %0d", i, j, p);
          errors = errors + 1;
        end
        // hold with the enable low, while the operands change
        holds = $unsigned($random(seed)) % 3;
        for (k = 0; k < holds; k = k + 1) begin
          ce = 1'b0;
          a = $random(seed);
          b = $random(seed);
          tick;
          checks = checks + 1;
          if (p !== want && errors < 5) begin
            $display("tb_mul_reg: FAIL held %0d, now %0d (enable low)", want, p);
            errors = errors + 1;
          end
        end
      end
    end
    if (errors == 0) $display("tb_mul_reg: PASS %0d checks", checks);
    $finish;
  end
endmodule

`default_nettype wire
