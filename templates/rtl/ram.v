{{ banner }}
`default_nettype none

// {{ about }}
// Simple dual-port memory, {{ depth }} words of {{ width }} bits: one write port, and one read
// port with its address and its data registered (rdata_o is word raddr_i of two cycles
// before), the form Yosys and vendor tools map to block RAM with its output register. A block
// RAM may read the word a cycle early: callers never write a word in the two cycles after
// they ask for it.
{%- if !init.is_empty() %}
// The initial contents are the generator's (the same words `blockrtl pack` writes as files).
{%- endif %}
module {{ name }} (
  input  wire        clk_i,
  input  wire        we_i,
  input  wire [{{ addr_msb }}:0] waddr_i,
  input  wire [{{ width - 1 }}:0] wdata_i,
  input  wire [{{ addr_msb }}:0] raddr_i,
  output reg  [{{ width - 1 }}:0] rdata_o
);

  reg [{{ width - 1 }}:0] mem_q [0:{{ depth - 1 }}];
{%- if !init.is_empty() %}

  initial begin
{%- for w in init %}
    mem_q[{{ loop.index0 }}] = {{ width }}'h{{ w }};
{%- endfor %}
  end
{%- endif %}

  reg [{{ addr_msb }}:0] raddr_q;
  always @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= wdata_i;
    raddr_q <= raddr_i;
    rdata_o <= mem_q[raddr_q];
  end

endmodule

`default_nettype wire
