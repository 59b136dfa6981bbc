{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none
{%- if s.two_stage %}

// Two-stage dialect selector (online activations) over {{ s.lanes }} magnitudes.
module {{ name }} (
{%- if s.regs > 0 %}
  input  wire        clk_i,
  input  wire [{{ s.regs - 1 }}:0] en_i,
{%- endif %}
  input  wire [{{ s.bus_msb }}:0] m_i,
  output wire [{{ s.id_msb }}:0] dialect_o
);

  // Stage 1 reads t = floor(2 M_max / 2^F), the largest of the lanes' t_i = M_i[{{ s.t_hi }}:{{ s.t_lo }}]. Its
  // pair changes only at the t below, so the flags [t >= c] (each the OR over the lanes of
  // [t_i >= c]) stand for t: no max tree.
{%- if s.flags.is_empty() %}
  wire [3:0]  t_w = 4'd0;
{%- else %}
  wire [{{ s.flags_bus_msb }}:0] ge_all_w;
  genvar i;
  generate
    for (i = 0; i < {{ s.lanes }}; i = i + 1) begin : g_lane
      wire [3:0]  t_w = m_i[i*{{ s.mw }} + {{ s.t_lo }} +: 4];
      assign ge_all_w[i*{{ s.flags_w }} +: {{ s.flags_w }}] = {{ s.lane_flags }};
    end
  endgenerate
{%- for f in s.flags %}
  wire        ge{{ f.k }}_w = {{ f.any }};
{%- endfor %}
  // The smallest t with the block's flags: the pair ROM gives it the block's pair.
  reg  [3:0]  t_w;
  always @* begin
    t_w = 4'd0;
{%- for f in s.flags %}
    if (ge{{ f.k }}_w) t_w = 4'd{{ f.c }};
{%- endfor %}
  end
{%- endif %}
  wire [{{ s.q_msb }}:0] lo0_w, hi0_w, lo1_w, hi1_w;
  wire [{{ s.id_msb }}:0] id0_w, id1_w;
  {{ pair_name }} u_pair (
    .t_i  (t_w),
    .lo0_o(lo0_w), .hi0_o(hi0_w), .id0_o(id0_w),
    .lo1_o(lo1_w), .hi1_o(hi1_w), .id1_o(id1_w)
  );
{%- call floor::cut(s.pair_cut, s.range.msb(), "range_q", "range_w", s.range.wires("_w"), "  ") %}{%- endcall %}
{%- call floor::cut(s.pair_cut, s.ids.msb(), "ids_q", "ids_w", s.ids.wires("_w"), "  ") %}{%- endcall %}
{%- call floor::cut(s.pair_cut, s.bus_msb, "m_q", "m2_w", "m_i", "  ") %}{%- endcall %}
{%- call floor::delay_regs(s.id_delay, s.ids.msb(), "  ") %}{%- endcall %}
  wire [{{ s.id_msb }}:0] id0_late_w = {{ s.ids_src }}{{ s.ids.slice("id0") }};
  wire [{{ s.id_msb }}:0] id1_late_w = {{ s.ids_src }}{{ s.ids.slice("id1") }};
  wire [{{ s.cnt_msb }}:0] cnt0_w, cnt1_w;
  {{ stats_name }} u_stats (
{%- if s.stats_regs > 0 %}
    .clk_i (clk_i),
    .en_i  ({{ s.stats_en }}),
{%- endif %}
    .m_i   (m2_w),
    .lo0_i (range_w{{ s.range.slice("lo0") }}), .hi0_i(range_w{{ s.range.slice("hi0") }}),
    .lo1_i (range_w{{ s.range.slice("lo1") }}), .hi1_i(range_w{{ s.range.slice("hi1") }}),
    .cnt0_o(cnt0_w), .cnt1_o(cnt1_w)
  );
  // More elements in its range wins; a tie goes to the even (first) member.
  assign dialect_o = (cnt1_w > cnt0_w) ? id1_late_w : id0_late_w;

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
