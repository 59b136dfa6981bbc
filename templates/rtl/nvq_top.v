{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none

// NVFP4 block quantizer, rule `exact` (docs/numerics.md 3.3): all {{ k }} {{ input }} elements of a
// block per beat, one block per cycle, no divider. The block scale compares the block max with
// 6 s_t x the UE4M3 midpoints ({{ scale_name }}); the elements compare |x| with s_b s_t x the E2M1
// midpoints ({{ thr_name }}), ties to even.
// Ports (flat, little-endian lanes: element i is bits [i*W +: W]):
//   data_i         {{ k }} x {{ n.in_w }}-bit {{ input }} inputs{% if ftz %} (subnormals read as zeros of their sign){% endif %}
//   tensor_scale_i FP32 tensor scale s_t, with every block (a register the user loads)
//   scale_o        UE4M3 block scale (0x7F = NaN block)
//   codes_o        {{ k }} x 4-bit E2M1 codes (sign, magnitude)
//   nan_o          the block held a NaN or an infinity, or s_t is not a positive finite number
//                  (scale 0x7F, codes 0)
//   last_o         last beat of a block (always 1 here: one beat per block)
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
  assign last_o  = 1'b1;

  // ---- per lane: sign and magnitude {sign, |x|} ----
  wire [{{ lanes_msb }}:0] lanes_w;
  genvar i;
  generate
    for (i = 0; i < {{ k }}; i = i + 1) begin : g_lane
      wire [{{ n.in_msb }}:0] x_w = data_i[i*{{ n.in_w }} +: {{ n.in_w }}];
{%- if ftz %}
      wire [{{ n.mag_msb }}:0] leaf_mag_w = ~|x_w[{{ n.mag_msb }}:{{ n.mbits }}] ? {{ n.mag_w }}'d0 : x_w[{{ n.mag_msb }}:0];
{%- else %}
      wire [{{ n.mag_msb }}:0] leaf_mag_w = x_w[{{ n.mag_msb }}:0];
{%- endif %}
      assign lanes_w[i*{{ n.lane_w }} +: {{ n.lane_w }}] = {x_w[{{ n.in_msb }}], leaf_mag_w};
    end
  endgenerate

  // ---- block maximum of the magnitudes (a NaN or an infinity is the largest pattern) ----
{%- for nd in tree %}
{%- call floor::node(nd, n.mag_msb, "mag", nd.max("mag"), "", "") %}{%- endcall %}
{%- endfor %}
{%- call floor::cut(cut_max, lanes_msb, "m_lanes_q", "m_lanes_w", "lanes_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_max, n.mag_msb, "m_amax_q", "m_amax_w", tree_root ~ "_mag_w", "  ") %}{%- endcall %}
  // The tensor scale's part of the block scale, beside the block max.
  wire [25:0] s3_w;
  wire [10:0] cu_w;
  wire        tbad_w;
  {{ tsn_name }} u_tsn (
    .tscale_i(tensor_scale_i),
    .s3_o    (s3_w),
    .cu_o    (cu_w),
    .bad_o   (tbad_w)
  );
{%- call floor::cut(cut_max, 30, "m_ts_q", "m_ts_w", "tensor_scale_i[30:0]", "  ") %}{%- endcall %}
{%- call floor::cut(cut_max, n.tsn.msb(), "m_tsn_q", "m_tsn_w", n.tsn.wires("_w"), "  ") %}{%- endcall %}

  // ---- block scale ----
  wire [7:0]  sc_w;
  wire        nan_w;
  {{ scale_name }} u_scale (
{%- if cut_scale_mid.registered %}
    .clk_i   (clk_i),
    .en_i    ({{ cut_scale_mid.en }}),
{%- endif %}
    .amax_i  (m_amax_w),
    .s3_i    (m_tsn_w{{ n.tsn.slice("s3") }}),
    .cu_i    (m_tsn_w{{ n.tsn.slice("cu") }}),
    .tbad_i  (m_tsn_w{{ n.tsn.slice("tbad") }}),
    .scale_o (sc_w),
    .nan_o   (nan_w)
  );
  // The lanes and the tensor scale keep pace with the scale's inner register.
{%- call floor::cut(cut_scale_mid, lanes_msb, "sm_lanes_q", "sm_lanes_w", "m_lanes_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_scale_mid, 30, "sm_ts_q", "sm_ts_w", "m_ts_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_scale, lanes_msb, "s_lanes_q", "s_lanes_w", "sm_lanes_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_scale, 30, "s_ts_q", "s_ts_w", "sm_ts_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_scale, 8, "s_blk_q", "s_blk_w", "{nan_w, sc_w}", "  ") %}{%- endcall %}

  // ---- the seven element thresholds (from a scale that is not NaN: the sign bits are 0) ----
  wire [{{ pats_msb }}:0] pat_w;
  wire [2:0]  exact_w;
  {{ thr_name }} u_thr (
{%- if cut_thr_mid.registered %}
    .clk_i   (clk_i),
    .en_i    ({{ cut_thr_mid.en }}),
{%- endif %}
    .scale_i (s_blk_w[6:0]),
    .tscale_i(s_ts_w),
    .pat_o   (pat_w),
    .exact_o (exact_w)
  );
  // The lanes and the block's {NaN, scale} keep pace with the thresholds' inner register.
{%- call floor::cut(cut_thr_mid, lanes_msb, "tm_lanes_q", "tm_lanes_w", "s_lanes_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_thr_mid, 8, "tm_blk_q", "tm_blk_w", "s_blk_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_thr, lanes_msb, "t_lanes_q", "t_lanes_w", "tm_lanes_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_thr, pats_msb, "t_pat_q", "t_pat_w", "pat_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_thr, 2, "t_exact_q", "t_exact_w", "exact_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_thr, 8, "t_blk_q", "t_blk_w", "tm_blk_w", "  ") %}{%- endcall %}
  wire [7:0]  scale_w = t_blk_w[7:0];
  wire        blk_nan_w = t_blk_w[8];
  // A scale of 0 leaves every element the zero of its sign; a NaN block has codes 0.
  wire        blk_zero_w = ~|scale_w;

  // ---- per lane: the midpoints passed are the E2M1 magnitude ----
  wire [{{ codes_msb }}:0] codes_w;
  generate
    for (i = 0; i < {{ k }}; i = i + 1) begin : g_code
      wire [{{ n.mag_msb }}:0] mag_w = t_lanes_w[i*{{ n.lane_w }} +: {{ n.mag_w }}];
      wire        sign_w = t_lanes_w[i*{{ n.lane_w }} + {{ n.mag_w }}];
      // A search over the seven thresholds: the middle one (7/4) and both candidates after it
      // (3/4 and 7/2) at once, then one of the even ones (ties down there, so > alone).
      wire [{{ n.mag_msb }}:0] t3_w = t_pat_w[{{ 3 * n.mag_w }} +: {{ n.mag_w }}];
      wire [{{ n.mag_msb }}:0] t1_w = t_pat_w[{{ n.mag_w }} +: {{ n.mag_w }}];
      wire [{{ n.mag_msb }}:0] t5_w = t_pat_w[{{ 5 * n.mag_w }} +: {{ n.mag_w }}];
      wire        b2_w = (mag_w > t3_w) | (t_exact_w[1] & (mag_w == t3_w));
      wire        c1_w = (mag_w > t1_w) | (t_exact_w[0] & (mag_w == t1_w));
      wire        c5_w = (mag_w > t5_w) | (t_exact_w[2] & (mag_w == t5_w));
      wire        b1_w = b2_w ? c5_w : c1_w;
      wire [{{ n.mag_msb }}:0] t0_w = b2_w ? (b1_w ? t_pat_w[{{ 6 * n.mag_w }} +: {{ n.mag_w }}] : t_pat_w[{{ 4 * n.mag_w }} +: {{ n.mag_w }}]) : (b1_w ? t_pat_w[{{ 2 * n.mag_w }} +: {{ n.mag_w }}] : t_pat_w[0 +: {{ n.mag_w }}]);
      wire        b0_w = mag_w > t0_w;
      wire [2:0]  m_w = {b2_w, b1_w, b0_w};
      assign codes_w[i*4 +: 4] = blk_nan_w ? 4'd0 : {sign_w, blk_zero_w ? 3'd0 : m_w};
    end
  endgenerate
{%- for o in out_stages %}
  reg  [{{ codes_msb }}:0] code_{{ o.name }}_q;
  reg  [7:0]  scale_{{ o.name }}_q;
  reg         nan_{{ o.name }}_q;
  always @(posedge clk_i) begin
    if ({{ o.en }}) begin
      code_{{ o.name }}_q <= {{ o.code_src }};
      scale_{{ o.name }}_q <= {{ o.scale_src }};
      nan_{{ o.name }}_q   <= {{ o.nan_src }};
    end
  end
{%- endfor %}
  assign codes_o = {{ code_out }};
  assign scale_o = {{ scale_out }};
  assign nan_o   = {{ nan_out }};

endmodule

`default_nettype wire
