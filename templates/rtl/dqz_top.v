{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none

// Dequantizer: {{ format }} blocks of {{ k }} in, {{ output }} values out, {{ lanes }} elements per beat
// ({{ beats }} beat(s) per block). Each value is {% if nv %}s_t x s_b{% else %}scale{% endif %} x element, exact, rounded once to {{ output }}.
// Ports (flat, little-endian lanes: element i of a beat is bits [i*W +: W]):
{%- if nv %}
//   scale_i   UE4M3 block scale (0x7F, or a set sign bit, = NaN block), on every beat
//   tensor_scale_i  FP32 tensor scale s_t, on every beat (a register the user loads); one that
//             is not a positive finite number makes every value NaN
{%- else %}
//   scale_i   E8M0 block scale (0xFF = NaN block), on every beat of the block
{%- endif %}
{%- if dialect %}
//   dialect_i the block's dialect id, on every beat (an id the formatbook lacks gives NaN)
{%- endif %}
//   codes_i   {{ lanes }} x {{ d.code_w }}-bit element codes
//   values_o  {{ lanes }} x {{ c.out_w }}-bit {{ output }} values
//   last_o    last beat of a block (counted from reset)
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

  // ---- inputs: {scale{% if nv %}, tensor scale{% endif %}{% if dialect %}, dialect{% endif %}, codes} ----
{%- call floor::cut(cut_in, inb.msb(), "in_q", "in_w", in_src, "  ") %}{%- endcall %}
  wire [7:0]  scale_w = in_w{{ inb.slice("scale") }};
  wire [{{ codes_msb }}:0] codes_w = in_w{{ inb.slice("codes") }};
{%- if nv %}
  wire [31:0] tscale_w = in_w{{ inb.slice("tensor_scale") }};
  // s_b (UE4M3) and s_t (FP32) as significand and exponent; their product is exact.
  wire [3:0]  be_w   = scale_w[6:3];
  wire [3:0]  bsig_w = {|be_w, scale_w[2:0]};
  wire [7:0]  te_w   = tscale_w[30:23];
  wire [23:0] tsig_w = {|te_w, tscale_w[22:0]};
  wire [3:0]  be1_w  = |be_w ? be_w : 4'd1;
  wire [7:0]  te1_w  = |te_w ? te_w : 8'd1;
  wire [{{ c.blk_msb }}:0] blk_sig_w = {24'd0, bsig_w} * {4'd0, tsig_w};
  // Normalized once per beat. The lanes' exponent base is max(e_b,1) + max(e_t,1) - 2, plus
  // {{ c.sig_msb }} (the top bit of a lane product), less the normalizing shift: the constant is
  // {{ c.sig_msb }} - 2. Each lane then subtracts its own 0..2.
  wire [{{ c.blk_lz_msb }}:0] blk_lz_w  = {{ c.blk_lz_expr }};
  wire [{{ c.blk_msb }}:0] blk_norm_w = blk_sig_w << blk_lz_w;
  wire [{{ c.eb_msb }}:0] blk_eb_w  = {{ be1_ext }} + {{ te1_ext }} + {{ c.eb_w }}'d{{ c.sig_msb - 2 }} - {{ c.blk_lz_ext }};
  wire        blk_nan_w = scale_w[7] | (&scale_w[6:0]) | tscale_w[31] | (&te_w) | ~|tscale_w[30:0];
{%- else if dialect %}
  wire [3:0]  dialect_w = in_w{{ inb.slice("dialect") }};
{%- call floor::dialect_table("dialect_w", "vvar_w", dialect_table) %}{%- endcall %}
  wire [31:0] vals_w = {{ dialect_table.assemble("vvar_w") }};
{%- if ids_all %}
  wire        blk_nan_w = scale_w == 8'hff;
{%- else %}
  wire        blk_nan_w = (scale_w == 8'hff) | (dialect_w >= 4'd{{ ids }});
{%- endif %}
{%- else %}
  wire        blk_nan_w = scale_w == 8'hff;
{%- endif %}

  // ---- per lane: decode, normalize, pack into {{ output }} ----
  wire [{{ values_msb }}:0] values_w;
  genvar i;
  generate
    for (i = 0; i < {{ lanes }}; i = i + 1) begin : g_lane
      wire        sign_w, special_w, zero_w;
{%- if nv %}
      wire [{{ d.sig_msb }}:0] sig_w;
      wire [{{ c.sig_msb }}:0] norm_w;
{%- else %}
      wire [{{ c.sig_msb }}:0] sig_w, norm_w;
{%- endif %}
      wire [{{ c.sh_msb }}:0] shift_w;
      wire [{{ c.eb_msb }}:0] eb_w;
      {{ dec_name }} u_dec (
        .code_i   (codes_w[i*{{ d.code_w }} +: {{ d.code_w }}]),
{%- if dialect %}
        .vals_i   (vals_w),
{%- endif %}
        .sign_o   (sign_w),
        .sig_o    (sig_w),
        .shift_o  (shift_w),
        .special_o(special_w)
      );
{%- if nv %}
      {{ norm_name }} u_norm (
        .sig_i    (sig_w),
        .shift_i  (shift_w),
        .blk_sig_i(blk_norm_w),
        .blk_eb_i (blk_eb_w),
        .sig_o    (norm_w),
        .eb_o     (eb_w),
        .zero_o   (zero_w)
      );
{%- else %}
      {{ norm_name }} u_norm (
        .sig_i  (sig_w),
        .shift_i(shift_w),
        .scale_i(scale_w),
        .sig_o  (norm_w),
        .eb_o   (eb_w),
        .zero_o (zero_w)
      );
{%- endif %}
      wire [{{ mid.msb() }}:0] mid_d_w = {{ mid_src }};
{%- call floor::cut(cut_mid, mid.msb(), "mid_q", "mid_w", "mid_d_w", "      ") %}{%- endcall %}
      {{ pack_name }} u_pack (
        .sign_i (mid_w{{ mid.slice("sign") }}),
        .nan_i  (mid_w{{ mid.slice("nan") }}),
        .zero_i (mid_w{{ mid.slice("zero") }}),
        .sig_i  (mid_w{{ mid.slice("sig") }}),
        .eb_i   (mid_w{{ mid.slice("eb") }}),
        .value_o(values_w[i*{{ c.out_w }} +: {{ c.out_w }}])
      );
    end
  endgenerate
{%- for r in out_regs %}
  reg  [{{ values_msb }}:0] {{ r.0 }};
  always @(posedge clk_i) if ({{ r.1 }}) {{ r.0 }} <= {{ r.2 }};
{%- endfor %}
  assign values_o = {{ values_out }};
{%- if beats > 1 %}

  // ---- last beat of a block: beats leaving, counted from reset ----
  reg  [{{ beat_msb }}:0] beat_q;
  always @(posedge clk_i) begin
    if (!rst_ni) beat_q <= {{ beat_msb + 1 }}'d0;
    else if (valid_o && ready_i) beat_q <= beat_q + {{ beat_msb + 1 }}'d1;
  end
  assign last_o = &beat_q;
{%- else %}
  assign last_o = 1'b1;
{%- endif %}

endmodule

`default_nettype wire
