{%- import "rtl/floor.inc" as floor -%}
{{ c.banner }}
`default_nettype none

// MX block quantizer, all {{ c.lanes }} elements of a block per beat: one block per cycle.
// Ports (flat, little-endian lanes: element i is bits [i*W +: W]):
//   data_i  {{ c.lanes }} x {{ c.n.in_w }}-bit {{ c.input_format }} inputs
//   scale_o E8M0 shared scale (0xFF = NaN block)
//   codes_o {{ c.lanes }} x {{ c.n.el_w }}-bit {{ c.element }} codes
//   nan_o   the block held a NaN or an infinity (scale 0xFF, codes 0)
//   last_o  last beat of a block (always 1 here: one beat per block)
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

  // ---- per lane: decode (independent of the block), then conversion ----
  // Block-level values the lanes read, declared before the lanes that use them.
  wire [{{ c.n.d_msb }}:0] tzm_w;
  wire        force_zero_w;
  genvar i;
  generate
    for (i = 0; i < {{ c.lanes }}; i = i + 1) begin : g_lane
{%- call floor::cut(cut_in, c.n.in_msb, "raw_q", "raw_w", "data_i[i*" ~ c.n.in_w ~ " +: " ~ c.n.in_w ~ "]", "      ") %}{%- endcall %}
      wire        sign_w, special_w, sticky_w;
      wire [{{ c.n.flb_msb }}:0] flb_w;
      wire [{{ c.n.sig_msb }}:0] sig_w;
      {{ c.dec_name }} u_dec (
        .raw_i    (raw_w),
        .sign_o   (sign_w),
        .special_o(special_w),
        .flb_o    (flb_w),
        .sig_o    (sig_w),
        .sticky_o (sticky_w)
      );
      // One bundle per lane and stage: {sign, special, flb, sig, sticky}.
      wire [{{ c.n.lane.msb() }}:0] dec_w = {{ c.n.lane.wires("_w") }};
{%- call floor::cut(cut_dec, c.n.lane.msb(), "dec_q", "tree_w", "dec_w", "      ") %}{%- endcall %}
      // Leaves of the block-max tree.
{%- if c.n.exp_tree.is_some() %}
      // The exponent field: the tree starts from the input, beside the decode.
      wire [{{ c.n.key_msb }}:0] leaf_flb_w     = raw_w[{{ c.n.dec.exp_hi }}:{{ c.n.dec.man_bits }}];
{%- else if c.n.rceil %}
      // rceil key: {flb, the significand exceeds the element maximum's}.
      wire        leaf_gt_w      = {tree_w{{ c.n.lane.slice("sig") }}, tree_w{{ c.n.lane.slice("sticky") }}} > {{ c.n.gt_const }};
      wire [{{ c.n.key_msb }}:0] leaf_flb_w     = {tree_w{{ c.n.lane.slice("flb") }}, leaf_gt_w};
{%- else %}
      wire [{{ c.n.flb_msb }}:0] leaf_flb_w     = tree_w{{ c.n.lane.slice("flb") }};
{%- endif %}
      wire        leaf_special_w = tree_w{{ c.n.lane.slice("special") }};
      // What conversion needs of the lane, {sign, flb, sig, sticky} (special went to the tree).
      wire [{{ c.n.store.msb() }}:0] keep_w = {{ keep_expr }};
{%- call floor::delay_regs(keep_delay, c.n.store.msb(), "      ") %}{%- endcall %}
{%- call floor::cut(cut_max, c.n.store.msb(), "cvt_q", "cvt_in_w", keep_src, "      ") %}{%- endcall %}
      wire [{{ c.n.el_msb }}:0] code_w;
      {{ c.cvt_name }} u_cvt (
{%- if cut_cvt.registered || cut_d.registered %}
        .clk_i   (clk_i),
{%- endif %}
{%- if cut_d.registered %}
        .en_d_i  ({{ cut_d.en }}),
{%- endif %}
{%- if cut_cvt.registered %}
        .en_i    ({{ cut_cvt.en }}),
{%- endif %}
        .sign_i  (cvt_in_w{{ c.n.store.slice("sign") }}),
        .flb_i   (cvt_in_w{{ c.n.store.slice("flb") }}),
        .sig_i   (cvt_in_w{{ c.n.store.slice("sig") }}),
        .sticky_i(cvt_in_w{{ c.n.store.slice("sticky") }}),
        .tzm_i   (tzm_w),
        .zero_i  (force_zero_w),
        .code_o  (code_w)
      );
{%- for o in out_stages %}
      reg  [{{ c.n.el_msb }}:0] code_{{ o.name }}_q;
      always @(posedge clk_i) if ({{ o.en }}) code_{{ o.name }}_q <= {{ o.code_src }};
{%- endfor %}
      assign codes_o[i*{{ c.n.el_w }} +: {{ c.n.el_w }}] = {{ code_out }};
    end
  endgenerate

  // ---- block maximum of flb, and NaN/Inf anywhere: a tree, one wire or register per node ----
{%- for nd in c.tree %}
{%- call floor::node(nd, c.n.key_msb, "flb", nd.max("flb"), "special", nd.any("special")) %}{%- endcall %}
{%- endfor %}
{%- if let Some(e) = c.n.exp_tree %}
{%- if let Some([(a, a_sp), (b, b_sp)]) = root %}

  // ---- shared exponent: shared = max(floor(log2 amax) - {{ c.n.emax }}, -127) ----
  // From the max exponent field e: above the floor when e > {{ e.above_k }}, and
  // then T' and the scale byte add constants to e (an exponent field of 0 is a block at the floor).
  // Both children's are formed beside the root's comparison, which picks one.
  wire        root_gt_w     = {{ a }} > {{ b }};
  wire        any_special_w = {{ a_sp }} | {{ b_sp }};
  wire        a_above_w     = {{ e.above(a) }};
  wire        b_above_w     = {{ e.above(b) }};
  wire [{{ c.n.d_msb }}:0] a_tzm_w = a_above_w ? ({{ e.tzm(a) }}) : {{ c.n.d_w }}'d{{ c.n.tzm_floor }};
  wire [{{ c.n.d_msb }}:0] b_tzm_w = b_above_w ? ({{ e.tzm(b) }}) : {{ c.n.d_w }}'d{{ c.n.tzm_floor }};
  wire [{{ c.n.tz_msb }}:0] a_scale_w = a_above_w ? ({{ e.scale(a) }}) : {{ c.n.tz_w }}'d0;
  wire [{{ c.n.tz_msb }}:0] b_scale_w = b_above_w ? ({{ e.scale(b) }}) : {{ c.n.tz_w }}'d0;
  wire [{{ c.n.d_msb }}:0] tzm_max_w = root_gt_w ? a_tzm_w : b_tzm_w;
  wire [{{ c.n.tz_msb }}:0] scale_full_w = root_gt_w ? a_scale_w : b_scale_w;
  wire [7:0]  scale_max_w = any_special_w ? 8'hff : scale_full_w[7:0];
{%- endif %}
{%- else %}
{%- if c.n.rceil %}
  wire [{{ c.n.key_msb }}:0] max_key_w = {{ c.tree_root }}_flb_w;
{%- include "rtl/mxq_rceil.inc" %}
{%- else %}
  wire [{{ c.n.flb_msb }}:0] max_flb_w = {{ c.tree_root }}_flb_w;
{%- endif %}
  wire        any_special_w = {{ c.tree_root }}_special_w;

  // ---- shared exponent: shared = max(floor(log2 amax) - {{ c.n.emax }}, -127) ----
  // In offset form: tz = T + {{ c.n.z }} with T = shared + {{ c.n.flb_offset }} + ({{ c.n.emin }}), and the scale byte is
  // tz - {{ c.n.scale_off }}. The floor sits at {{ c.n.tz_floor }} (shared = -127).
  wire        above_w   = {{ c.n.above_floor_expr }};
  // The conversion's threshold T = tz - {{ c.n.z }}, {{ c.n.d_w }}-bit two's complement, formed from the max directly.
  wire [{{ c.n.d_msb }}:0] tzm_max_w = above_w ? ({{ "{" }}{{ c.n.d_w - c.n.flb_w }}'d0, max_flb_w} + {{ c.n.d_w }}'d{{ c.n.tzm_add }}) : {{ c.n.d_w }}'d{{ c.n.tzm_floor }};
  wire        all_zero_w  = ~|max_flb_w;
  // tz - {{ c.n.scale_off }}, formed from the max directly (the floor is where the scale byte is 0).
  wire [{{ c.n.tz_msb }}:0] scale_full_w = above_w ? ({{ "{" }}{{ c.n.tz_pad }}'d0, max_flb_w} + {{ c.n.tz_w }}'d{{ c.n.scale_add }}) : {{ c.n.tz_w }}'d0;
  wire [7:0]  scale_max_w = any_special_w ? 8'hff : all_zero_w ? 8'h00 : scale_full_w[7:0];
{%- endif %}
{%- if cut_max.registered %}
  reg  [{{ c.n.d_msb }}:0] tzm_q;
  reg  [7:0]  scale_q;
  reg         special_q;
  always @(posedge clk_i) begin
    if ({{ cut_max.en }}) begin
      tzm_q     <= tzm_max_w;
      scale_q   <= scale_max_w;
      special_q <= any_special_w;
    end
  end
  assign tzm_w = tzm_q;
  wire [7:0]  scale_w = scale_q;
  wire        blk_special_w = special_q;
{%- else %}
  assign tzm_w = tzm_max_w;
  wire [7:0]  scale_w = scale_max_w;
  wire        blk_special_w = any_special_w;
{%- endif %}
  // A NaN block forces its codes to 0; an all-zero block keeps each zero's sign.
  assign force_zero_w = blk_special_w;
{%- for b in blk_delay %}
  // The block's scale and NaN flag keep pace with the conversion's inner registers.
  reg  [7:0]  scale_{{ b.0 }}_q;
  reg         special_{{ b.0 }}_q;
  always @(posedge clk_i) begin
    if ({{ b.1 }}) begin
      scale_{{ b.0 }}_q   <= {{ b.2 }};
      special_{{ b.0 }}_q <= {{ b.3 }};
    end
  end
{%- endfor %}
{%- for o in out_stages %}
  reg  [7:0]  scale_{{ o.name }}_q;
  reg         nan_{{ o.name }}_q;
  always @(posedge clk_i) begin
    if ({{ o.en }}) begin
      scale_{{ o.name }}_q <= {{ o.scale_src }};
      nan_{{ o.name }}_q   <= {{ o.nan_src }};
    end
  end
{%- endfor %}
  assign scale_o = {{ scale_out }};
  assign nan_o   = {{ nan_out }};
{%- if c.n.tz_unused_bits %}

  // Bits of the subtraction above the scale byte are zero by construction.
  wire unused_w = |scale_full_w[{{ c.n.tz_msb }}:8];
{%- endif %}

endmodule

`default_nettype wire
