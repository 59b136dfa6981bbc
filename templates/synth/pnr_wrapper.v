{{ banner }}
// Place-and-route wrapper of {{ dut }}: {{ in_width }} input bits arrive through a shift register fed
// one bit a cycle, and the {{ out_width }} registered output bits are XOR-reduced in two registered
// levels onto one pin, so the design fits any package and no output can be optimized away.
// Synthesis keeps {{ dut }} as its own module (keep_hierarchy), so the wrapper cannot merge into it.
`default_nettype none

module {{ top }} (
  input  wire clk_i,
  input  wire rst_ni,
  input  wire sin_i,
  output wire x_o
);
  reg  [{{ in_width - 1 }}:0] sin_q;
  wire [{{ out_width - 1 }}:0] dout;
  reg  [{{ out_width - 1 }}:0] dout_q;
  reg  [{{ groups.len() - 1 }}:0] grp_q;
  reg  x_q;

  always @(posedge clk_i) begin
    sin_q <= {sin_q[{{ in_width - 2 }}:0], sin_i};
    dout_q <= dout;
{%- for g in groups %}
    grp_q[{{ loop.index0 }}] <= ^{{ g }};
{%- endfor %}
    x_q <= ^grp_q;
  end

  {{ dut }} u_dut (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
{%- for c in conns %}
    .{{ c.0 }}({{ c.1 }}){% if !loop.last %},{% endif %}
{%- endfor %}
  );

  assign x_o = x_q;
endmodule

`default_nettype wire
