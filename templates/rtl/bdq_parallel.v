{%- import "rtl/floor.inc" as floor -%}
{{ c.banner }}
`default_nettype none

// BlockDialect (DialectFP4) block quantizer, all {{ c.lanes }} elements of a block per beat.
// Ports (flat, little-endian lanes: element i is bits [i*W +: W]):
//   data_i    {{ c.lanes }} x {{ c.n.dec.in_w }}-bit {{ c.input_format }} inputs
//   scale_o   shared exponent, {{ c.scale_desc }}
//   dialect_o the block's dialect id ({{ c.selector }} selector)
//   codes_o   {{ c.lanes }} x 4-bit codes {sign, index into the dialect}
//   nan_o     the block held a NaN or an infinity (NaN scale, dialect 0, codes 0)
//   last_o    last beat of a block (always 1 here: one beat per block)
// Handshake: AXI-Stream style valid/ready on both sides; data held while stalled.
// Pipeline: {{ pipeline }} register stage(s){{ stage_summary }}; latency {{ pipeline }} cycle(s).
module {{ c.name }} (
{{ c.port_decls }}
);
{%- include "rtl/stage_decls.inc" %}

  // ---- handshake: a stage loads when it is empty or the stage after it moves on ----
{%- include "rtl/stages.inc" %}
{%- if stages.is_empty() %}
  // A combinational core: clock and reset are kept for the same interface on every pipeline.
  wire        unused_clk_w = clk_i | rst_ni;
{%- endif %}
  assign ready_o = {{ first_en }};
  assign valid_o = {{ last_valid }};
  assign last_o  = 1'b1;

  // ---- per lane: decode, scaled magnitude, and (after selection) the code ----
  wire [{{ c.m_bus_msb }}:0] m_all_w;
  // Block-level values the lanes read, declared before the lanes that use them.
  wire [{{ c.n.tz_msb }}:0] tz_w;
  wire        enc_zero_w;
  reg  [{{ c.n.thr_bus_msb }}:0] thr_w;
  genvar i;
  generate
    for (i = 0; i < {{ c.lanes }}; i = i + 1) begin : g_lane
{%- call floor::cut(cut_in, c.n.dec.in_msb, "raw_q", "raw_w", "data_i[i*" ~ c.n.dec.in_w ~ " +: " ~ c.n.dec.in_w ~ "]", "      ") %}{%- endcall %}
      wire        sign_w, special_w, unused_sticky_w;
      wire [{{ c.n.dec.flb_msb }}:0] flb_w;
      wire [{{ c.n.dec.sig_msb }}:0] sig_w;
      {{ c.dec_name }} u_dec (
        .raw_i    (raw_w),
        .sign_o   (sign_w),
        .special_o(special_w),
        .flb_o    (flb_w),
        .sig_o    (sig_w),
        .sticky_o (unused_sticky_w)
      );
      // {sign, special, flb, sig}
      wire [{{ c.n.lane.msb() }}:0] dec_w = {{ c.n.lane.wires("_w") }};
{%- call floor::cut(cut_dec, c.n.lane.msb(), "dec_q", "tree_w", "dec_w", "      ") %}{%- endcall %}
      wire [{{ c.n.dec.flb_msb }}:0] leaf_flb_w     = tree_w{{ c.n.lane.slice("flb") }};
      wire        leaf_special_w = tree_w{{ c.n.lane.slice("special") }};
      // {sign, flb, sig}: what the magnitude needs once the block exponent is known.
      wire [{{ c.n.store.msb() }}:0] keep_w = {{ keep_expr }};
{%- call floor::delay_regs(keep_delay, c.n.store.msb(), "      ") %}{%- endcall %}
{%- call floor::cut(cut_max, c.n.store.msb(), "keep_q", "mag_in_w", keep_src, "      ") %}{%- endcall %}
      wire [{{ c.n.m_msb }}:0] m_w;
      {{ c.mag_name }} u_mag (
{%- if cut_gap.registered %}
        .clk_i(clk_i),
        .en_i ({{ cut_gap.en }}),
{%- endif %}
        .flb_i(mag_in_w{{ c.n.store.slice("flb") }}),
        .sig_i(mag_in_w{{ c.n.store.slice("sig") }}),
        .tz_i (tz_w),
        .m_o  (m_w)
      );
      // {sign, M}
{%- call floor::cut(cut_gap, 0, "sign_gap_q", "sign_m_w", "mag_in_w" ~ c.n.store.slice("sign"), "      ") %}{%- endcall %}
      wire [{{ c.n.m_w }}:0] sm_w = {sign_m_w, m_w};
{%- call floor::cut(cut_mag, c.n.m_w, "sm_q", "sel_in_w", "sm_w", "      ") %}{%- endcall %}
      assign m_all_w[i*{{ c.n.mw }} +: {{ c.n.mw }}] = sel_in_w[{{ c.n.m_msb }}:0];
{%- call floor::delay_regs(late_delay, c.n.m_w, "      ") %}{%- endcall %}
{%- call floor::cut(cut_sel, c.n.m_w, "enc_q", "enc_in_w", late_src, "      ") %}{%- endcall %}
      wire [3:0]  code_w;
      {{ c.enc_name }} u_enc (
        .sign_i(enc_in_w[{{ c.n.m_w }}]),
        .m_i   (enc_in_w[{{ c.n.m_msb }}:0]),
        .thr_i (thr_w),
        .zero_i(enc_zero_w),
        .code_o(code_w)
      );
{%- for o in outs %}
      reg  [3:0]  code_{{ o.name }}_q;
      always @(posedge clk_i) if ({{ o.en }}) code_{{ o.name }}_q <= {{ o.code_src }};
{%- endfor %}
      assign codes_o[i*4 +: 4] = {{ code_out }};
    end
  endgenerate

  // ---- block maximum of flb, and NaN/Inf anywhere ----
{%- for nd in c.tree %}
{%- call floor::node(nd, c.n.dec.flb_msb, "flb", nd.max("flb"), "special", nd.any("special")) %}{%- endcall %}
{%- endfor %}
  wire [{{ c.n.dec.flb_msb }}:0] blk_flb_w     = {{ c.tree_root }}_flb_w;

  // ---- shared exponent e = clamp(floor(log2 amax) - 2), in offset form ----
  // tz = flb of 2^(e + 2), plus {{ c.n.z }}, clamped to [{{ c.n.tz_lo }}, {{ c.n.tz_hi }}]; scale code = tz - {{ c.n.scale_off }}.
  // tz is made before the block-max register (its clamps compare flb itself, beside the add),
  // so the lanes' magnitudes start from a register.
  wire [{{ c.n.tz_msb }}:0] tz_raw_w = {{ "{" }}{{ c.n.tz_pad }}'d0, blk_flb_w} + {{ c.n.tz_w }}'d{{ c.n.z }};
{%- if c.n.clamp_lo %}
  wire        tz_below_w = blk_flb_w < {{ c.n.dec.flb_w }}'d{{ c.n.flb_lo }};
{%- else %}
  wire        tz_below_w = 1'b0;
{%- endif %}
{%- if c.n.clamp_hi %}
  wire        tz_above_w = blk_flb_w > {{ c.n.dec.flb_w }}'d{{ c.n.flb_hi }};
{%- else %}
  wire        tz_above_w = 1'b0;
{%- endif %}
  wire [{{ c.n.tz_msb }}:0] tz_d_w = tz_above_w ? {{ c.n.tz_w }}'d{{ c.n.tz_hi }} : tz_below_w ? {{ c.n.tz_w }}'d{{ c.n.tz_lo }} : tz_raw_w;
  wire        all_zero_d_w = ~|blk_flb_w;
{%- if cut_max.registered %}
  reg  [{{ c.n.tz_msb }}:0] tz_q;
  reg         all_zero_q;
  reg         blk_special_q;
  always @(posedge clk_i) begin
    if ({{ cut_max.en }}) begin
      tz_q          <= tz_d_w;
      all_zero_q    <= all_zero_d_w;
      blk_special_q <= {{ c.tree_root }}_special_w;
    end
  end
  assign tz_w = tz_q;
  wire        all_zero_w    = all_zero_q;
  wire        blk_special_w = blk_special_q;
{%- else %}
  assign tz_w = tz_d_w;
  wire        all_zero_w    = all_zero_d_w;
  wire        blk_special_w = {{ c.tree_root }}_special_w;
{%- endif %}
  wire [{{ c.n.tz_msb }}:0] scale_full_w = tz_w - {{ c.n.tz_w }}'d{{ c.n.scale_off }};
  wire [{{ c.n.scale_msb }}:0] scale_w = blk_special_w ? {{ c.n.scale_bits }}'d{{ c.n.scale_nan }} : all_zero_w ? {{ c.n.scale_bits }}'d0 : scale_full_w[{{ c.n.scale_msb }}:0];
  wire unused_w = |scale_full_w[{{ c.n.tz_msb }}:{{ c.n.scale_bits }}];
  // {scale, special}: block facts that travel with the lanes. A NaN block forces its codes to
  // 0; an all-zero block's codes are each zero with its sign, as the lanes make them.
  wire [{{ c.n.blk.msb() }}:0] blk_w = {{ blk_expr }};
{%- call floor::cut(cut_gap, c.n.blk.msb(), "blk_gap_q", "blk_gap_w", "blk_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_mag, c.n.blk.msb(), "blk_mag_q", "blk_sel_w", "blk_gap_w", "  ") %}{%- endcall %}

  // ---- dialect selection ----
  wire [{{ c.n.id_msb }}:0] chosen_w;
  {{ c.sel_name }} u_sel (
{%- if !sel_en.is_empty() %}
    .clk_i    (clk_i),
    .en_i     ({{ sel_en }}),
{%- endif %}
    .m_i      (m_all_w),
    .dialect_o(chosen_w)
  );
{%- call floor::delay_regs(blk_late_delay, c.n.blk.msb(), "  ") %}{%- endcall %}
  wire [{{ c.n.blk.msb() }}:0] blk_late_w = {{ blk_late_src }};
  wire [3:0]  dialect_w = blk_late_w{{ c.n.blk.slice("special") }} ? 4'd0 : {{ c.n.id_ext }};
{%- if cut_sel.registered %}
  reg  [{{ c.n.blk.msb() }}:0] blk_enc_q;
  reg  [3:0]  dialect_q;
  always @(posedge clk_i) begin
    if ({{ cut_sel.en }}) begin
      blk_enc_q <= blk_late_w;
      dialect_q <= dialect_w;
    end
  end
  wire [{{ c.n.blk.msb() }}:0] blk_enc_w = blk_enc_q;
  wire [3:0]  dialect_enc_w = dialect_q;
{%- else %}
  wire [{{ c.n.blk.msb() }}:0] blk_enc_w = blk_late_w;
  wire [3:0]  dialect_enc_w = dialect_w;
{%- endif %}
  assign enc_zero_w = blk_enc_w{{ c.n.blk.slice("special") }};

  // The chosen dialect's midpoints, as 4M thresholds (see the encoder).
  always @* begin
    case (dialect_enc_w)
{%- for d in c.thresholds %}
      4'd{{ d.id }}: thr_w = {{ d.bus }};
{%- endfor %}
      default: thr_w = {{ c.n.thr_bus_w }}'d0;
    endcase
  end

  // ---- outputs: {scale, dialect, nan} per block ----
  wire [{{ c.n.out.msb() }}:0] out_w = {{ out_expr }};
{%- for o in outs %}
  reg  [{{ c.n.out.msb() }}:0] out_{{ o.name }}_q;
  always @(posedge clk_i) if ({{ o.en }}) out_{{ o.name }}_q <= {{ o.scale_src }};
{%- endfor %}
  assign scale_o   = {{ out_final }}{{ c.n.out.slice("scale") }};
  assign dialect_o = {{ out_final }}{{ c.n.out.slice("dialect") }};
  assign nan_o     = {{ out_final }}{{ c.n.out.slice("nan") }};

endmodule

`default_nettype wire
