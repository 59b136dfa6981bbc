{%- import "rtl/floor.inc" as floor -%}
{{ c.banner }}
`default_nettype none

// MX block quantizer, {{ c.lanes }} of the block's {{ c.k }} elements per beat ({{ beats }} beats per block).
// The shared exponent needs the whole block, so beats are decoded as they arrive (decode does
// not depend on the block) and kept in one of two banks while the block maximum accumulates;
// a full bank then streams out through the conversion lanes while the other bank fills, so
// one beat per cycle is sustained on both sides. Only {{ c.n.store.width() }} bits per element wait, not the
// {{ c.n.in_w }}-bit input.
// Ports (flat, little-endian lanes: element i of a beat is bits [i*W +: W]):
//   data_i  {{ c.lanes }} x {{ c.n.in_w }}-bit {{ c.input_format }} inputs, beats of a block in element order
//   scale_o E8M0 shared scale of the block (0xFF = NaN block), on every beat of it
//   codes_o {{ c.lanes }} x {{ c.n.el_w }}-bit {{ c.element }} codes
//   nan_o   the block held a NaN or an infinity (scale 0xFF, codes 0)
//   last_o  last beat of a block
// Handshake: AXI-Stream style valid/ready on both sides; data held while stalled.
// Latency: {{ latency }} cycles from the first input beat of a block to its first output beat.
module {{ c.name }} (
{{ c.port_decls }}
);
{%- include "rtl/stage_decls.inc" %}

  // ---- bank control ----
  reg         wr_bank_q, rd_bank_q, full0_q, full1_q;
  reg  [{{ beat_msb }}:0] wr_beat_q, rd_beat_q;
  wire        wr_full_w  = wr_bank_q ? full1_q : full0_q;
  wire        rd_full_w  = rd_bank_q ? full1_q : full0_q;
  wire        accept_w   = valid_i & ~wr_full_w;
  wire        wr_last_w  = wr_beat_q == {{ beat_w }}'d{{ beat_last }};
  wire        rd_last_w  = rd_beat_q == {{ beat_w }}'d{{ beat_last }};
  wire        fire_w     = rd_full_w & {{ first_en }};
  assign ready_o = ~wr_full_w;

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      wr_bank_q <= 1'b0;
      rd_bank_q <= 1'b0;
      full0_q   <= 1'b0;
      full1_q   <= 1'b0;
      wr_beat_q <= {{ beat_w }}'d0;
      rd_beat_q <= {{ beat_w }}'d0;
    end else begin
      if (accept_w) begin
        wr_beat_q <= wr_last_w ? {{ beat_w }}'d0 : wr_beat_q + {{ beat_w }}'d1;
        if (wr_last_w) begin
          wr_bank_q <= ~wr_bank_q;
          if (wr_bank_q) full1_q <= 1'b1;
          else           full0_q <= 1'b1;
        end
      end
      // The two sides never touch the same bank's flag in one cycle: the bank being written
      // is not full, so it is not the one being read.
      if (fire_w) begin
        rd_beat_q <= rd_last_w ? {{ beat_w }}'d0 : rd_beat_q + {{ beat_w }}'d1;
        if (rd_last_w) begin
          rd_bank_q <= ~rd_bank_q;
          if (rd_bank_q) full1_q <= 1'b0;
          else           full0_q <= 1'b0;
        end
      end
    end
  end

  // ---- output pipeline handshake ----
{%- include "rtl/stages.inc" %}
  assign valid_o = {{ last_valid }};

  // ---- per lane: decode on arrival, bank storage, conversion on the way out ----
  // Block-level values the lanes read, declared before the lanes that use them.
  wire [{{ c.n.d_msb }}:0] tzm_w;
  wire        force_zero_w;
  genvar i;
  generate
    for (i = 0; i < {{ c.lanes }}; i = i + 1) begin : g_lane
      wire        sign_w, special_w, sticky_w;
      wire [{{ c.n.flb_msb }}:0] flb_w;
      wire [{{ c.n.sig_msb }}:0] sig_w;
      {{ c.dec_name }} u_dec (
        .raw_i    (data_i[i*{{ c.n.in_w }} +: {{ c.n.in_w }}]),
        .sign_o   (sign_w),
        .special_o(special_w),
        .flb_o    (flb_w),
        .sig_o    (sig_w),
        .sticky_o (sticky_w)
      );
{%- if c.n.rceil %}
      // rceil key: {flb, the significand exceeds the element maximum's}.
      wire        leaf_gt_w      = {sig_w, sticky_w} > {{ c.n.gt_const }};
      wire [{{ c.n.key_msb }}:0] leaf_flb_w     = {flb_w, leaf_gt_w};
{%- else %}
      wire [{{ c.n.flb_msb }}:0] leaf_flb_w     = flb_w;
{%- endif %}
      wire        leaf_special_w = special_w;
      // Bank storage, {sign, flb, sig, sticky}: address {bank, beat}.
      reg  [{{ c.n.store.msb() }}:0] mem_q [0:{{ mem_last }}];
      always @(posedge clk_i) begin
        if (accept_w) mem_q[{wr_bank_q, wr_beat_q}] <= {{ c.n.store.wires("_w") }};
      end
      wire [{{ c.n.store.msb() }}:0] rd_w = mem_q[{rd_bank_q, rd_beat_q}];
      wire [{{ c.n.el_msb }}:0] code_w;
      {{ c.cvt_name }} u_cvt (
        .sign_i  (rd_w{{ c.n.store.slice("sign") }}),
        .flb_i   (rd_w{{ c.n.store.slice("flb") }}),
        .sig_i   (rd_w{{ c.n.store.slice("sig") }}),
        .sticky_i(rd_w{{ c.n.store.slice("sticky") }}),
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

  // ---- beat maximum of flb, and NaN/Inf anywhere: a tree, one wire per node ----
{%- for nd in c.tree %}
{%- call floor::node(nd, c.n.key_msb, "flb", nd.max("flb"), "special", nd.any("special")) %}{%- endcall %}
{%- endfor %}
  wire [{{ c.n.key_msb }}:0] beat_flb_w     = {{ c.tree_root }}_flb_w;
  wire        beat_special_w = {{ c.tree_root }}_special_w;

  // ---- running block maximum, then one (max, special) pair per bank ----
  reg  [{{ c.n.key_msb }}:0] run_flb_q, blk0_flb_q, blk1_flb_q;
  reg         run_special_q, blk0_special_q, blk1_special_q;
  wire        first_w      = wr_beat_q == {{ beat_w }}'d0;
  wire [{{ c.n.key_msb }}:0] acc_flb_w    = (first_w || beat_flb_w > run_flb_q) ? beat_flb_w : run_flb_q;
  wire        acc_special_w = beat_special_w | (~first_w & run_special_q);
  always @(posedge clk_i) begin
    if (accept_w) begin
      run_flb_q     <= acc_flb_w;
      run_special_q <= acc_special_w;
      if (wr_last_w && !wr_bank_q) begin
        blk0_flb_q     <= acc_flb_w;
        blk0_special_q <= acc_special_w;
      end
      if (wr_last_w && wr_bank_q) begin
        blk1_flb_q     <= acc_flb_w;
        blk1_special_q <= acc_special_w;
      end
    end
  end
{%- if c.n.rceil %}
  wire [{{ c.n.key_msb }}:0] max_key_w     = rd_bank_q ? blk1_flb_q : blk0_flb_q;
{%- include "rtl/mxq_rceil.inc" %}
  wire [{{ c.n.flb_msb }}:0] blk_flb_w     = max_flb_w;
{%- else %}
  wire [{{ c.n.flb_msb }}:0] blk_flb_w     = rd_bank_q ? blk1_flb_q : blk0_flb_q;
{%- endif %}
  wire        blk_special_w = rd_bank_q ? blk1_special_q : blk0_special_q;

  // ---- shared exponent: shared = max(floor(log2 amax) - {{ c.n.emax }}, -127) ----
  // In offset form: tz = T + {{ c.n.z }} with T = shared + {{ c.n.flb_offset }} + ({{ c.n.emin }}), and the scale byte is
  // tz - {{ c.n.scale_off }}. The floor sits at {{ c.n.tz_floor }} (shared = -127).
  wire [{{ c.n.tz_msb }}:0] tz_raw_w  = {{ "{" }}{{ c.n.tz_pad }}'d0, blk_flb_w} + {{ c.n.tz_w }}'d{{ c.n.tz_add }};
  wire [{{ c.n.tz_msb }}:0] tz_w      = (tz_raw_w > {{ c.n.tz_w }}'d{{ c.n.tz_floor }}) ? tz_raw_w : {{ c.n.tz_w }}'d{{ c.n.tz_floor }};
  wire        all_zero_w   = ~|blk_flb_w;
  // A NaN block forces its codes to 0; an all-zero block keeps each zero's sign.
  assign force_zero_w = blk_special_w;
  wire [{{ c.n.tz_msb }}:0] scale_full_w = tz_w - {{ c.n.tz_w }}'d{{ c.n.scale_off }};
  // The conversion's threshold T = tz - {{ c.n.z }} (less sig_w when it converts by table), in {{ c.n.d_w }}-bit two's complement.
  assign tzm_w = {{ "{" }}2'd0, tz_w} - {{ c.n.d_w }}'d{{ c.n.tzm_sub }};
  wire [7:0]  scale_w = blk_special_w ? 8'hff : all_zero_w ? 8'h00 : scale_full_w[7:0];
{%- for o in out_stages %}
  reg  [7:0]  scale_{{ o.name }}_q;
  reg         nan_{{ o.name }}_q, last_{{ o.name }}_q;
  always @(posedge clk_i) begin
    if ({{ o.en }}) begin
      scale_{{ o.name }}_q <= {{ o.scale_src }};
      nan_{{ o.name }}_q   <= {{ o.nan_src }};
      last_{{ o.name }}_q  <= {{ o.last_src }};
    end
  end
{%- endfor %}
  assign scale_o = {{ scale_out }};
  assign nan_o   = {{ nan_out }};
  assign last_o  = {{ last_out }};
{%- if c.n.tz_unused_bits %}

  // Bits of the subtraction above the scale byte are zero by construction.
  wire unused_w = |scale_full_w[{{ c.n.tz_msb }}:8];
{%- endif %}

endmodule

`default_nettype wire
