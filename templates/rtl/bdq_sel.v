{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none
{%- if s.two_stage %}

// Two-stage dialect selector (online activations) over {{ s.lanes }} magnitudes.
module {{ name }} (
  input  wire [{{ s.bus_msb }}:0] m_i,
  output wire [{{ s.id_msb }}:0] dialect_o
);

  genvar i;
  generate
    for (i = 0; i < {{ s.lanes }}; i = i + 1) begin : g_lane
      wire [{{ s.m_msb }}:0] leaf_m_w = m_i[i*{{ s.mw }} +: {{ s.mw }}];
    end
  endgenerate
  // Block maximum of M; its top bits are t = floor(2 M_max / 2^F).
{%- for nd in s.max_tree %}
{%- call floor::node(nd, s.m_msb, "m", nd.max("m"), "", "") %}{%- endcall %}
{%- endfor %}
  wire [3:0]  t_w = {{ s.max_root }}_m_w[{{ s.t_hi }}:{{ s.t_lo }}];
{%- if s.t_lo > 0 %}
  wire unused_w = |{{ s.max_root }}_m_w[{{ s.t_lo_msb }}:0];
{%- endif %}
  wire [{{ s.q_msb }}:0] lo0_w, hi0_w, lo1_w, hi1_w;
  wire [{{ s.id_msb }}:0] id0_w, id1_w;
  {{ pair_name }} u_pair (
    .t_i  (t_w),
    .lo0_o(lo0_w), .hi0_o(hi0_w), .id0_o(id0_w),
    .lo1_o(lo1_w), .hi1_o(hi1_w), .id1_o(id1_w)
  );
  wire [{{ s.cnt_msb }}:0] cnt0_w, cnt1_w;
  {{ stats_name }} u_stats (
    .m_i   (m_i),
    .lo0_i (lo0_w), .hi0_i(hi0_w), .lo1_i(lo1_w), .hi1_i(hi1_w),
    .cnt0_o(cnt0_w), .cnt1_o(cnt1_w)
  );
  // More elements in its range wins; a tie goes to the even (first) member.
  assign dialect_o = (cnt1_w > cnt0_w) ? id1_w : id0_w;

endmodule
{%- else %}

// MSE dialect selector (offline weights) over {{ s.lanes }} magnitudes.
module {{ name }} (
  input  wire [{{ s.bus_msb }}:0] m_i,
  output wire [{{ s.id_msb }}:0] dialect_o
);

  wire [{{ s.errs_msb }}:0] err_w;
  {{ stats_name }} u_stats (
    .m_i  (m_i),
    .err_o(err_w)
  );
  {{ amin_name }} u_amin (
    .tot_i(err_w),
    .id_o (dialect_o)
  );

endmodule
{%- endif %}

`default_nettype wire
