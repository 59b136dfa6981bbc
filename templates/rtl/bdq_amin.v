{{ banner }}
`default_nettype none

// The dialect with the least total squared error; on a tie the lower id stays.
module {{ name }} (
  input  wire [{{ s.tots_msb }}:0] tot_i,
  output wire [{{ s.id_msb }}:0] id_o
);
{%- for d in s.dialects %}
  wire [{{ s.tot_msb }}:0] tot{{ d.id }}_s_w = tot_i[{{ d.thi }}:{{ d.tlo }}];
  wire [{{ s.id_msb }}:0] tot{{ d.id }}_i_w = {{ s.id_w }}'d{{ d.id }};
{%- endfor %}
{%- for nd in s.argmin_tree %}
  wire        {{ nd.name }}_lt_w = {{ nd.b }}_s_w < {{ nd.a }}_s_w;
  wire [{{ s.tot_msb }}:0] {{ nd.name }}_s_w = {{ nd.name }}_lt_w ? {{ nd.b }}_s_w : {{ nd.a }}_s_w;
  wire [{{ s.id_msb }}:0] {{ nd.name }}_i_w = {{ nd.name }}_lt_w ? {{ nd.b }}_i_w : {{ nd.a }}_i_w;
{%- endfor %}
  assign id_o = {{ s.argmin_root }}_i_w;
  // The winning total itself is not needed.
  wire unused_w = |{{ s.argmin_root }}_s_w;

endmodule

`default_nettype wire
