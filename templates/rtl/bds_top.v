{{ banner }}
`default_nettype none

// BlockDialect dialect selector on its own ({{ selector }}), for costing it apart from the quantizer.
// Ports (flat, little-endian lanes: element i is bits [i*W +: W]):
//   mags_i    {{ lanes }} x {{ mw }}-bit scaled magnitudes M = floor(|x| * 2^(F - e)), F = {{ frac }}
//   dialect_o the chosen dialect id
// Handshake: AXI-Stream style valid/ready on both sides; data held while stalled.
// Pipeline: {{ pipeline }} register stage(s){{ stage_summary }}; latency {{ pipeline }} cycle(s).
module {{ name }} (
{{ port_decls }}
);
{%- include "rtl/stage_decls.inc" %}
{%- include "rtl/stages.inc" %}
{%- if stages.is_empty() %}
  // A combinational core: clock and reset are kept for the same interface on every pipeline.
  wire        unused_clk_w = clk_i | rst_ni;
{%- endif %}
  assign ready_o = {{ first_en }};
  assign valid_o = {{ last_valid }};
{%- if cut_in.registered %}

  reg  [{{ bus_msb }}:0] mags_q;
  always @(posedge clk_i) if ({{ cut_in.en }}) mags_q <= mags_i;
  wire [{{ bus_msb }}:0] sel_in_w = mags_q;
{%- else %}
  wire [{{ bus_msb }}:0] sel_in_w = mags_i;
{%- endif %}

  wire [{{ id_msb }}:0] chosen_w;
  {{ sel_name }} u_sel (
    .m_i      (sel_in_w),
    .dialect_o(chosen_w)
  );
  wire [3:0]  dialect_w = {{ id_ext }};
{%- for o in outs %}
  reg  [3:0]  dialect_{{ o.name }}_q;
  always @(posedge clk_i) if ({{ o.en }}) dialect_{{ o.name }}_q <= {{ o.src }};
{%- endfor %}
  assign dialect_o = {{ out_final }};

endmodule

`default_nettype wire
