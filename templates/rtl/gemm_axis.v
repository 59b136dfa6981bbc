{{ banner }}
`default_nettype none

// {{ core }} with AXI4-Stream names, for block designs (Vivado IP integrator infers the
// s_axis / m_axis interfaces from them). Wiring only: the core is what co-simulation checks.
//   s_axis_tdata   {{ lanes }} activation elements a beat (element 0 lowest)
//   s_axis_tlast   accepted and not used: the core counts the {{ beats_per_row }} beats of a row itself
{%- if requant %}
//   m_axis_tdata   {nan, E8M0 scale, {{ cols }} element codes} of a requantized block a beat;
//   m_axis_tuser   on the last beat of each block; m_axis_tlast on the last beat of each row
{%- else %}
//   m_axis_tdata   {{ cols }} results a beat; m_axis_tlast on the last beat of each output row
{%- endif %}
module {{ name }} (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        s_axis_tvalid,
  output wire        s_axis_tready,
  input  wire [{{ x_msb }}:0] s_axis_tdata,
  input  wire        s_axis_tlast,
  output wire        m_axis_tvalid,
  input  wire        m_axis_tready,
  output wire [{{ y_msb }}:0] m_axis_tdata,
{%- if requant %}
  output wire        m_axis_tuser,
{%- endif %}
  output wire        m_axis_tlast,
{%- if tscale %}
  input  wire [31:0] x_tensor_scale_i,
{%- endif %}
  input  wire        w_we_i,
  input  wire [{{ col_msb }}:0] w_col_i,
  input  wire [{{ addr_msb }}:0] w_addr_i,
  input  wire [{{ data_msb }}:0] w_data_i
);

  {{ core }} u_core (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
    .valid_i(s_axis_tvalid),
    .ready_o(s_axis_tready),
    .x_i(s_axis_tdata),
{%- if tscale %}
    .x_tensor_scale_i(x_tensor_scale_i),
{%- endif %}
    .w_we_i(w_we_i),
    .w_col_i(w_col_i),
    .w_addr_i(w_addr_i),
    .w_data_i(w_data_i),
    .valid_o(m_axis_tvalid),
    .ready_i(m_axis_tready),
{%- if requant %}
    .codes_o(m_axis_tdata[{{ codes_msb }}:0]),
    .scale_o(m_axis_tdata[{{ codes_msb + 8 }}:{{ codes_msb + 1 }}]),
    .nan_o(m_axis_tdata[{{ y_msb }}]),
    .block_last_o(m_axis_tuser),
{%- else %}
    .y_o(m_axis_tdata),
{%- endif %}
    .last_o(m_axis_tlast)
  );
  wire        unused_tlast_w = s_axis_tlast;

endmodule

`default_nettype wire
