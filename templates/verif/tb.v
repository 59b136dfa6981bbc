{{ banner }}
// Self-checking Verilog-2005 testbench of {{ dut }}: streams {{ n_in }} input beats from
// {{ in_file }} and compares {{ n_out }} output beats with {{ exp_file }} (golden model),
// with pseudo-random source and sink stalls ({{ stall }}/256 of cycles). Prints PASS or FAIL;
// on FAIL the simulator exits non-zero (Icarus: exit 1; elsewhere $stop, which Verilator's
// --binary turns into an abort).
`timescale 1ns / 1ps
`default_nettype none

module {{ top }};
  localparam integer NIn = {{ n_in }};
  localparam integer NOut = {{ n_out }};
  localparam integer Stall = {{ stall }};
  localparam integer MaxCycles = {{ max_cycles }};
  localparam integer InPerBlock = {{ in_per_block }};
  localparam integer OutPerBlock = {{ out_per_block }};

  reg clk_i = 1'b0;
  reg rst_ni = 1'b0;
  reg valid_i = 1'b0;
  reg ready_i = 1'b0;
  wire ready_o;
  wire valid_o;
  reg  [{{ in_width - 1 }}:0] in_mem [0:NIn - 1];
  reg  [{{ out_width - 1 }}:0] exp_mem [0:NOut - 1];
  wire [{{ out_width - 1 }}:0] out_w;
  integer in_idx = 0;
  integer in_next;
  integer out_idx = 0;
  integer errors = 0;
  integer cycles = 0;
  reg  [31:0] lfsr_q = 32'h{{ seed }};
  wire [{{ in_width - 1 }}:0] in_w = in_mem[in_idx < NIn ? in_idx : 0];

  {{ dut }} u_dut (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
    .valid_i(valid_i),
    .ready_o(ready_o),
    .valid_o(valid_o),
    .ready_i(ready_i),
{%- for c in conns %}
    .{{ c.0 }}({{ c.1 }}){% if !loop.last %},{% endif %}
{%- endfor %}
  );

  initial begin
    $readmemh("{{ in_file }}", in_mem);
    $readmemh("{{ exp_file }}", exp_mem);
  end

  always #5 clk_i = ~clk_i;

  // Waves: +wave=FILE dumps a VCD (vvp -fst makes it an FST) of the blocks from +wave_from=B
  // (default 0), +wave_blocks=N of them (default: to the end).
  reg  [8*1024-1:0] wave_file;
  integer wave_from = 0;
  integer wave_blocks = 0;
  reg wave_armed = 1'b0;
  reg wave_on = 1'b0;
  initial begin
    if ($value$plusargs("wave=%s", wave_file)) begin
      if (!$value$plusargs("wave_from=%d", wave_from)) wave_from = 0;
      if (!$value$plusargs("wave_blocks=%d", wave_blocks)) wave_blocks = 0;
      $dumpfile(wave_file);
      $dumpvars(0, {{ top }});
      $dumpoff;
      wave_armed = 1'b1;
    end
  end
  always @(posedge clk_i) begin
    if (wave_armed && !wave_on && in_idx >= wave_from * InPerBlock) begin
      $dumpon;
      wave_on = 1'b1;
    end
    if (wave_on && wave_blocks > 0 && out_idx >= (wave_from + wave_blocks) * OutPerBlock) begin
      $dumpoff;
      wave_on = 1'b0;
      wave_armed = 1'b0;
    end
  end

  // End the run so that scripts and FuseSoC see the failure in the exit status.
  task fail;
    begin
`ifdef __ICARUS__
      $finish_and_return(1);
`else
      $stop;
`endif
    end
  endtask

  always @(posedge clk_i) begin
    cycles = cycles + 1;
    if (cycles == 4) rst_ni <= 1'b1;
    if (rst_ni) begin
      lfsr_q <= {lfsr_q[30:0], lfsr_q[31] ^ lfsr_q[21] ^ lfsr_q[1] ^ lfsr_q[0]};
      if (valid_o && ready_i) begin
        if (out_w !== exp_mem[out_idx]) begin
          errors = errors + 1;
          if (errors <= 4) $display("MISMATCH beat %0d: expected %h got %h", out_idx, exp_mem[out_idx], out_w);
        end
        out_idx = out_idx + 1;
      end
      // Everything the design sees changes through non-blocking assignments only.
      in_next = in_idx + ((valid_i && ready_o) ? 1 : 0);
      in_idx <= in_next;
      valid_i <= (in_next < NIn) && ((valid_i && !ready_o) || (lfsr_q[7:0] >= Stall));
      ready_i <= (lfsr_q[15:8] >= Stall);
      if (out_idx == NOut) begin
        if (errors == 0) begin
          $display("PASS %0d beats in %0d cycles", NOut, cycles);
          $finish;
        end else begin
          $display("FAIL %0d of %0d beats differ", errors, NOut);
          fail;
        end
      end
      if (cycles > MaxCycles) begin
        $display("FAIL timeout after %0d cycles: %0d of %0d output beats seen", cycles, out_idx, NOut);
        fail;
      end
    end
  end
endmodule

`default_nettype wire
