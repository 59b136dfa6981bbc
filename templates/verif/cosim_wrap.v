{{ banner }}
//
// Co-simulation wrapper of {{ top }}. The data inputs reach the design through a register
// that the harness loads one cycle ahead (load_i with the next beat on next_*), so the design
// sees the same values in the same cycles as if driven directly. Verilator 5.006 evaluates
// logic fed by top-level inputs on every eval, twice a cycle in the harness; fed by a register,
// the design's input stage is evaluated once per rising edge.
`default_nettype none
module {{ name }} (
{{ ports }}
);
{%- for r in regs %}
  reg  [{{ r.msb }}:0] {{ r.reg }};
  always @(posedge clk_i) if (load_i) {{ r.reg }} <= {{ r.next }};
{%- endfor %}
  {{ top }} u_dut (
{{ conns }}
  );
endmodule
`default_nettype wire
