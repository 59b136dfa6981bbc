{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none
{%- if s.two_stage %}

// Two-stage selector, stage 2 statistics over {{ s.lanes }} magnitudes: how many fall in each
// member's beneficial range [lo, hi) (compared as 4M).
module {{ name }} (
{%- if s.stats_regs > 0 %}
  input  wire        clk_i,
  input  wire [{{ s.stats_regs - 1 }}:0] en_i,
{%- endif %}
  input  wire [{{ s.bus_msb }}:0] m_i,
  input  wire [{{ s.q_msb }}:0] lo0_i,
  input  wire [{{ s.q_msb }}:0] hi0_i,
  input  wire [{{ s.q_msb }}:0] lo1_i,
  input  wire [{{ s.q_msb }}:0] hi1_i,
  output wire [{{ s.cnt_msb }}:0] cnt0_o,
  output wire [{{ s.cnt_msb }}:0] cnt1_o
);

  genvar i;
  generate
    for (i = 0; i < {{ s.lanes }}; i = i + 1) begin : g_lane
      wire [{{ s.q_msb }}:0] q_w = {m_i[i*{{ s.mw }} +: {{ s.mw }}], 2'b00};
      wire [0:0]  leaf_c0_w = (q_w >= lo0_i) & (q_w < hi0_i);
      wire [0:0]  leaf_c1_w = (q_w >= lo1_i) & (q_w < hi1_i);
    end
  endgenerate
{%- for nd in s.count_tree %}
{%- call floor::node(nd, nd.msb, "c0", nd.add("c0"), "", "") %}{%- endcall %}
{%- call floor::node(nd, nd.msb, "c1", nd.add("c1"), "", "") %}{%- endcall %}
{%- endfor %}
  assign cnt0_o = {{ s.count_root }}_c0_w;
  assign cnt1_o = {{ s.count_root }}_c1_w;

endmodule
{%- else %}

// MSE selector statistics over {{ s.lanes }} magnitudes: for every dialect of formatbook
// {{ s.book }}, the sum of squared errors (2M - v * 2^F)^2 of the rounded magnitudes (ties to
// the larger value), dialect d in err_o[d*{{ s.sum_w }} +: {{ s.sum_w }}].
module {{ name }} (
  input  wire [{{ s.bus_msb }}:0] m_i,
  output wire [{{ s.errs_msb }}:0] err_o
);
{%- for d in s.dialects %}

  function [{{ s.e_msb }}:0] sqerr{{ d.id }};
    input [{{ s.m_msb }}:0] m;
    begin
      case (m)
{%- for e in d.table %}
        {{ s.mw }}'d{{ e.m }}: sqerr{{ d.id }} = {{ s.e_w }}'d{{ e.err }};
{%- endfor %}
        default: sqerr{{ d.id }} = {{ s.e_w }}'d0;
      endcase
    end
  endfunction
{%- endfor %}

  genvar i;
  generate
    for (i = 0; i < {{ s.lanes }}; i = i + 1) begin : g_lane
      wire [{{ s.m_msb }}:0] m_w = m_i[i*{{ s.mw }} +: {{ s.mw }}];
{%- for d in s.dialects %}
      wire [{{ s.e_msb }}:0] leaf_e{{ d.id }}_w = sqerr{{ d.id }}(m_w);
{%- endfor %}
    end
  endgenerate
{%- for d in s.dialects %}
{%- let key = format!("e{}", d.id) %}
{%- for nd in s.sum_tree %}
{%- call floor::node(nd, nd.msb, key, nd.add(key), "", "") %}{%- endcall %}
{%- endfor %}
  assign err_o[{{ d.hi }}:{{ d.lo }}] = {{ s.sum_root }}_e{{ d.id }}_w;
{%- endfor %}

endmodule
{%- endif %}

`default_nettype wire
