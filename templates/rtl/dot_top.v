{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none

// Block dot product: A ({{ fa }}) x B ({{ fb }}), k = {{ k }}, {{ lanes }} element pairs per beat
// ({{ beats }} beat(s) per block pair). Each block's sum is exact: a {{ sum_w }}-bit two's complement
// integer in units of 2^({{ qa }} + {{ qb }}) with exponent scale_A + scale_B - 254 added.
{%- if fp32 %}
// Accumulation (fp32): over {{ n }} block pair(s), each block's exact sum is rounded to FP32 (RNE),
// then added in block order into an FP32 sum that starts at +0 (IEEE binary32 addition, RNE,
// subnormals kept): ((0 + r0) + r1) + ... One partial sum, so one adder in a one-cycle loop.
// A NaN anywhere gives the canonical NaN 0x7FC00000.
{%- endif %}
{%- if fixed %}
// Accumulation (fixed): over {{ n }} block pair(s) into a {{ acc_w }}-bit two's complement accumulator
// with LSB weight 2^{{ acc_lsb }}, starting at 0. Each block adds floor(sum * 2^(exp - ({{ acc_lsb }}))) (exact
// when exp >= {{ acc_lsb }}); after each addition the accumulator saturates, and sat_o says so.
{%- endif %}
// Ports (flat, little-endian lanes: element i is bits [i*W +: W]):
//   scale_a_i, scale_b_i  {% if a_nv || b_nv %}block scales (E8M0: 0xFF = NaN; an nvfp4 side's UE4M3: 0x7F or a sign bit = NaN){% else %}E8M0 block scales (0xFF = NaN){% endif %}, on every beat of the block
{%- if a_dialect %}
//   dialect_a_i           A's dialect id, on every beat
{%- endif %}
{%- if b_dialect %}
//   dialect_b_i           B's dialect id, on every beat
{%- endif %}
//   codes_a_i, codes_b_i  {{ lanes }} element codes each
{%- if fp32 %}
//   result_o              FP32 DotGeneral result, once every {{ n }} block pair(s)
{%- else if fixed %}
//   acc_o                 fixed-point DotGeneral result (x 2^{{ acc_lsb }}), once every {{ n }} block pair(s)
//   sat_o                 the accumulator saturated; nan_o: a NaN anywhere (acc_o is then 0)
{%- else %}
//   sum_o, exp_o          the block's exact sum and its exponent (two's complement); 0 when NaN
//   nan_o                 a NaN scale or a NaN/Inf element on either side
{%- endif %}
// Handshake: AXI-Stream style valid/ready on both sides; data held while stalled.
// Pipeline: {{ pipeline }} register stage(s){{ stage_summary }}.
module {{ name }} (
{{ port_decls }}
);
{%- include "rtl/stage_decls.inc" %}

  // ---- handshake: a stage loads when it is empty or the stage after it moves on ----
  // The sink side of the last stage, declared before the stages that use it.
  wire        take_w;
{%- include "rtl/stages.inc" %}
  assign ready_o = {{ first_en }};

  // ---- inputs: {scale_a, scale_b, dialect values of A, of B} and the codes ----
{%- if a_dialect %}
  // A block's dialect values are looked up before the input register: the table and its
  // fan-out to every lane would otherwise sit in front of the lane's index mux.
{%- call floor::dialect_table("dialect_a_i", "va_in_w", dialect_table) %}{%- endcall %}
{%- endif %}
{%- if b_dialect %}
{%- call floor::dialect_table("dialect_b_i", "vb_in_w", dialect_table) %}{%- endcall %}
{%- endif %}
  wire [{{ hdr.msb() }}:0] hdr_in_w = {{ hdr_expr }};
{%- if cut_in.registered %}
  reg  [{{ hdr.msb() }}:0] hdr_q;
  reg  [{{ ca_msb }}:0] ca_q;
  reg  [{{ cb_msb }}:0] cb_q;
  always @(posedge clk_i) begin
    if ({{ cut_in.en }}) begin
      hdr_q <= hdr_in_w;
      ca_q  <= codes_a_i;
      cb_q  <= codes_b_i;
    end
  end
  wire [{{ hdr.msb() }}:0] hdr_w = hdr_q;
  wire [{{ ca_msb }}:0] ca_w = ca_q;
  wire [{{ cb_msb }}:0] cb_w = cb_q;
{%- else %}
  wire [{{ hdr.msb() }}:0] hdr_w = hdr_in_w;
  wire [{{ ca_msb }}:0] ca_w = codes_a_i;
  wire [{{ cb_msb }}:0] cb_w = codes_b_i;
{%- endif %}
{%- if a_nv %}
  // Operand A is NVFP4: its UE4M3 scale as a significand (it multiplies the block's sum) and
  // an E8M0-style exponent code, S x 2^(sa - 127); 0x7F or a sign bit is NaN.
  wire [7:0]  ra_w  = hdr_w{{ hdr.slice("scale_a") }};
  wire [3:0]  ssa_w = {|ra_w[6:3], ra_w[2:0]};
  wire [7:0]  sa_w  = (|ra_w[6:3] ? {4'd0, ra_w[6:3]} : 8'd1) + 8'd117;
  wire        nsa_w = ra_w[7] | (&ra_w[6:0]);
{%- else %}
  wire [7:0]  sa_w = hdr_w{{ hdr.slice("scale_a") }};
{%- endif %}
{%- if b_nv %}
  // Operand B is NVFP4 (as A above).
  wire [7:0]  rb_w  = hdr_w{{ hdr.slice("scale_b") }};
  wire [3:0]  ssb_w = {|rb_w[6:3], rb_w[2:0]};
  wire [7:0]  sb_w  = (|rb_w[6:3] ? {4'd0, rb_w[6:3]} : 8'd1) + 8'd117;
  wire        nsb_w = rb_w[7] | (&rb_w[6:0]);
{%- else %}
  wire [7:0]  sb_w = hdr_w{{ hdr.slice("scale_b") }};
{%- endif %}
{%- if a_dialect %}
  wire [{{ dialect_table.var_w - 1 }}:0] va_w = hdr_w{{ hdr.slice("vals_a") }};
  wire [31:0] vals_a_w = {{ dialect_table.assemble("va_w") }};
{%- endif %}
{%- if b_dialect %}
  wire [{{ dialect_table.var_w - 1 }}:0] vb_w = hdr_w{{ hdr.slice("vals_b") }};
  wire [31:0] vals_b_w = {{ dialect_table.assemble("vb_w") }};
{%- endif %}

{%- if let Some(cmp) = compressor %}

  // ---- the beat's sum in one carry-save reduction: radix-4 Booth partial products of every
  // lane's INT8 x INT8 product, a Dadda tree of full and half adders down to two rows, one
  // final adder; exact mod 2^{{ cmp.width }}, which holds any sum of {{ lanes }} products ----
{%- for lv in cmp.levels %}
{%- for n in lv.nets %}
  wire        {{ n.name }} = {{ n.expr }};
{%- endfor %}
{%- if let Some(r) = lv.reg %}
{%- call floor::cut(r.point, r.msb, r.q, r.w, r.concat(), "  ") %}{%- endcall %}
{%- endif %}
{%- endfor %}
  wire [{{ cmp.msb() }}:0] cmp_r0_w = {{ cmp.row(0) }};
  wire [{{ cmp.msb() }}:0] cmp_r1_w = {{ cmp.row(1) }};
  wire [{{ cmp.msb() }}:0] cmp_p_w = cmp_r0_w + cmp_r1_w;
{%- else %}

  // ---- per lane: decode both elements, multiply significands, shift, apply the sign ----
  genvar i;
  generate
    for (i = 0; i < {{ lanes }}; i = i + 1) begin : g_lane
{%- if let Some(ext) = int_direct %}
      // Both operands are two's-complement INT8 codes: one signed multiply gives the product
      // in quanta, with no sign-magnitude decode around it (INT8 has no NaN codes).
      wire signed [7:0]  ia_w = ca_w[i*8 +: 8];
      wire signed [7:0]  ib_w = cb_w[i*8 +: 8];
      wire signed [15:0] ip_w = ia_w * ib_w;
      wire [{{ pw_msb }}:0] prod_w = {{ ext }};
      wire        leaf_nan_w = 1'b0;
{%- else %}
      wire        sa_sign_d_w, sb_sign_d_w, a_special_d_w, b_special_d_w;
      wire [{{ da.sig_msb }}:0] a_sig_d_w;
      wire [{{ db.sig_msb }}:0] b_sig_d_w;
      wire [{{ da.sh_msb }}:0] a_sh_d_w;
      wire [{{ db.sh_msb }}:0] b_sh_d_w;
      {{ deca_name }} u_deca (
        .code_i   (ca_w[i*{{ da.code_w }} +: {{ da.code_w }}]),
{%- if a_dialect %}
        .vals_i   (vals_a_w),
{%- endif %}
        .sign_o   (sa_sign_d_w),
        .sig_o    (a_sig_d_w),
        .shift_o  (a_sh_d_w),
        .special_o(a_special_d_w)
      );
      {{ decb_name }} u_decb (
        .code_i   (cb_w[i*{{ db.code_w }} +: {{ db.code_w }}]),
{%- if b_dialect %}
        .vals_i   (vals_b_w),
{%- endif %}
        .sign_o   (sb_sign_d_w),
        .sig_o    (b_sig_d_w),
        .shift_o  (b_sh_d_w),
        .special_o(b_special_d_w)
      );
      // {signs, specials, significands, shifts} of both elements
      wire [{{ lane_dec.msb() }}:0] dec_w = {{ lane_dec.wires("_d_w") }};
{%- call floor::cut(cut_dec, lane_dec.msb(), "dec_q", "dec_t_w", "dec_w", "      ") %}{%- endcall %}
      wire        sa_sign_w = dec_t_w{{ lane_dec.slice("sa_sign") }};
      wire        sb_sign_w = dec_t_w{{ lane_dec.slice("sb_sign") }};
      wire        a_special_w = dec_t_w{{ lane_dec.slice("a_special") }};
      wire        b_special_w = dec_t_w{{ lane_dec.slice("b_special") }};
      wire [{{ da.sig_msb }}:0] a_sig_w = dec_t_w{{ lane_dec.slice("a_sig") }};
      wire [{{ db.sig_msb }}:0] b_sig_w = dec_t_w{{ lane_dec.slice("b_sig") }};
      wire [{{ da.sh_msb }}:0] a_sh_w = dec_t_w{{ lane_dec.slice("a_sh") }};
      wire [{{ db.sh_msb }}:0] b_sh_w = dec_t_w{{ lane_dec.slice("b_sh") }};
      wire [{{ mul_msb }}:0] mul_w = {{ mul_expr }};
      wire [{{ sh_sum_msb }}:0] shs_w = {{ shs_expr }};
      wire [{{ pw_msb }}:0] mag_w = {{ "{" }}{{ mag_pad }}'d0, mul_w} << shs_w;
{%- if fold_sign %}
      // The sign travels beside the magnitude: the leaf is its one's complement, and the
      // tree's first level adds the sign back as a carry.
      wire        neg_w = sa_sign_w ^ sb_sign_w;
      wire [{{ pw_msb }}:0] prod_w = mag_w;
{%- else %}
      wire [{{ pw_msb }}:0] prod_w = (sa_sign_w ^ sb_sign_w) ? {{ pw }}'d0 - mag_w : mag_w;
{%- endif %}
      wire        leaf_nan_w = a_special_w | b_special_w;
{%- endif %}
{%- if cut_prod.registered %}
      reg  [{{ pw_msb }}:0] prod_q;
      reg         nan_q;
      always @(posedge clk_i) begin
        if ({{ cut_prod.en }}) begin
          prod_q <= prod_w;
          nan_q  <= leaf_nan_w;
        end
      end
      wire [{{ pw_msb }}:0] prod_t_w = prod_q;
      wire        leaf_n_w = nan_q;
{%- else %}
      wire [{{ pw_msb }}:0] prod_t_w = prod_w;
      wire        leaf_n_w = leaf_nan_w;
{%- endif %}
{%- if fold_sign %}
{%- call floor::cut(cut_prod, 0, "neg_q", "neg_t_w", "neg_w", "      ") %}{%- endcall %}
      wire [{{ pw_msb }}:0] leaf_p_w = prod_t_w ^ {{ "{" }}{{ pw }}{neg_t_w[0]}};
      wire        leaf_s_w = neg_t_w[0];
{%- else %}
      wire [{{ pw_msb }}:0] leaf_p_w = prod_t_w;
{%- endif %}
    end
  endgenerate
{%- endif %}

  // ---- scale facts of the beat: {scale_a, scale_b, NaN scale} ----
  wire [{{ sc.msb() }}:0] sc_w = {{ sc_expr }};
{%- call floor::cut(cut_dec, sc.msb(), "sc_d_q", "sc_d_w", "sc_w", "  ") %}{%- endcall %}
{%- call floor::cut(cut_prod, sc.msb(), "sc_q", "sc_t_w", "sc_d_w", "  ") %}{%- endcall %}

  // ---- the beat's sum: a signed adder tree, one bit wider per level; NaN anywhere ----
{%- for nd in tree %}
{%- call floor::node(nd, nd.msb, "p", nd.add_signed("p"), "n", nd.any("n")) %}{%- endcall %}
{%- endfor %}
{%- call floor::delay_regs(sc_delay, sc.msb(), "  ") %}{%- endcall %}
  // {beat sum, scale facts, NaN}
  wire [{{ beat.msb() }}:0] beat_w = {{ beat_expr }};
{%- for st in post %}
  reg  [{{ beat.msb() }}:0] beat_{{ st.name }}_q;
  always @(posedge clk_i) if ({{ st.en }}) beat_{{ st.name }}_q <= {{ st.src }};
{%- endfor %}
  wire [{{ beat.msb() }}:0] fin_w = {{ beat_final }};
  wire [{{ part_msb }}:0] part_w = fin_w{{ beat.slice("part") }};
  wire [7:0]  fsa_w = fin_w{{ beat.slice("sa") }};
  wire [7:0]  fsb_w = fin_w{{ beat.slice("sb") }};
  wire        fnan_w = fin_w{{ beat.slice("nan") }};
{%- if a_nv %}
  wire [3:0]  fssa_w = fin_w{{ beat.slice("ssa") }};
{%- endif %}
{%- if b_nv %}
  wire [3:0]  fssb_w = fin_w{{ beat.slice("ssb") }};
{%- endif %}

  // ---- blocks: beats add up to the block's exact sum ----
{%- if beats > 1 %}
  reg  [{{ beat_cnt_msb }}:0] beat_q;
  reg  [{{ blk_msb }}:0] bacc_q;
  reg         bnan_q;
  wire        first_beat_w = beat_q == {{ beat_cnt_w }}'d0;
  wire        last_beat_w  = beat_q == {{ beat_cnt_w }}'d{{ beat_last }};
  wire [{{ blk_msb }}:0] {{ bsum_name }} = (first_beat_w ? {{ blk_w }}'d0 : bacc_q) + {{ part_ext }};
  wire        bnan_w = fnan_w | (~first_beat_w & bnan_q);
{%- else %}
  wire        last_beat_w = 1'b1;
  wire [{{ blk_msb }}:0] {{ bsum_name }} = part_w{{ part_trunc }};
  wire        bnan_w = fnan_w;
{%- if part_wider %}
  // The tree grows a bit per level; the block sum itself never needs the top ones.
  wire        unused_part_w = |part_w[{{ part_msb }}:{{ blk_w }}];
{%- endif %}
{%- endif %}
{%- if a_nv || b_nv %}

  // ---- NVFP4: the element sum times the product of the UE4M3 scale significands, once per
  // block (the rest of each scale is the power of two in fsa/fsb) ----
  wire [{{ sprod_msb }}:0] sprod_w = {{ sprod_expr }};
  wire        rneg_w = bsum_raw_w[{{ blk_msb }}];
  wire [{{ blk_msb }}:0] rmag_w = rneg_w ? {{ blk_w }}'d0 - bsum_raw_w : bsum_raw_w;
  wire [{{ sum_msb }}:0] smag_w = {{ rmag_ext }} * {{ sprod_ext }};
  wire [{{ sum_msb }}:0] bsum_w = rneg_w ? {{ sum_w }}'d0 - smag_w : smag_w;
{%- endif %}
{%- if multi %}

  // ---- groups of {{ n }} block pairs ----
  reg  [{{ blk_cnt_msb }}:0] blk_q;
  wire        first_blk_w = blk_q == {{ blk_cnt_w }}'d0;
  wire        last_blk_w  = blk_q == {{ blk_cnt_w }}'d{{ blk_last }};
{%- else if accumulating %}
  wire        first_blk_w = 1'b1;
  wire        last_blk_w  = 1'b1;
{%- endif %}
{%- if fp32 %}

  // ---- FP32 accumulation ----
  wire        bneg_w = bsum_w[{{ sum_msb }}];
  wire [{{ sum_msb }}:0] bmag_w = bneg_w ? {{ sum_w }}'d0 - bsum_w : bsum_w;
  wire [31:0] bf32_w;
  {{ tof32_name }} u_round (
    .neg_i(bneg_w),
    .mag_i(bmag_w),
    .exp_i({1'b0, fsa_w} + {1'b0, fsb_w}),
    .f32_o(bf32_w)
  );
{%- if multi %}
  reg  [31:0] facc_q;
  reg         gnan_q;
  wire [31:0] fin_acc_w = first_blk_w ? 32'd0 : facc_q;
  wire        gnan_w = bnan_w | (~first_blk_w & gnan_q);
{%- else %}
  wire [31:0] fin_acc_w = 32'd0;
  wire        gnan_w = bnan_w;
  wire        unused_first_w = first_blk_w;
{%- endif %}
  wire [31:0] fsum_w;
  {{ fadd_name }} u_fadd (
    .a_i(fin_acc_w),
    .b_i(bf32_w),
    .s_o(fsum_w)
  );
  wire        emit_w = last_beat_w & last_blk_w;
  assign result_o = gnan_w ? 32'h7fc00000 : fsum_w;
{%- else if fixed %}

  // ---- fixed-point accumulation ----
  // The block's exponent relative to the accumulator LSB: s = exp - ({{ acc_lsb }}).
  wire [{{ exp_msb }}:0] bexp_w = {{ "{" }}{{ exp_pad }}'d0, fsa_w} + {{ "{" }}{{ exp_pad }}'d0, fsb_w} + {{ exp_w }}'d{{ exp_add }};
  wire signed [{{ s_msb }}:0] s_w = $signed({{ "{" }}{{ "{" }}{{ s_pad }}{bexp_w[{{ exp_msb }}]}}, bexp_w}) - $signed({{ s_w }}'d{{ acc_lsb_abs_sub }});
  wire        s_neg_w = s_w[{{ s_msb }}];
  wire [{{ s_msb }}:0] s_abs_w = s_neg_w ? {{ s_w }}'d0 - s_w : s_w;
  // Left: exact, then clamped to +-2^{{ acc_w }} (already past saturation for any accumulator value).
  wire [{{ ls_msb }}:0] ls_w = (s_abs_w > {{ s_w }}'d{{ ls_cap }}) ? {{ ls_w }}'d{{ ls_cap }} : s_abs_w[{{ ls_msb }}:0];
  wire signed [{{ ww_msb }}:0] wide_w = $signed({{ "{" }}{{ "{" }}{{ ww_pad }}{bsum_w[{{ sum_msb }}]}}, bsum_w}) <<< ls_w;
  wire signed [{{ ww_msb }}:0] lim_w = {{ ww_w }}'sd1 <<< {{ acc_w }};
  wire signed [{{ cw_msb }}:0] cl_w = (wide_w > lim_w) ? lim_w[{{ cw_msb }}:0] : (wide_w < -lim_w) ? -lim_w[{{ cw_msb }}:0] : wide_w[{{ cw_msb }}:0];
  // Right: arithmetic (floor), at most the sum's width.
  wire [{{ rs_msb }}:0] rs_w = (s_abs_w > {{ s_w }}'d{{ sum_w }}) ? {{ rs_w }}'d{{ sum_w }} : s_abs_w[{{ rs_msb }}:0];
  wire signed [{{ sum_msb }}:0] rsh_w = $signed(bsum_w) >>> rs_w;
  wire signed [{{ cw_msb }}:0] cr_w = $signed({{ "{" }}{{ "{" }}{{ cr_pad }}{rsh_w[{{ sum_msb }}]}}, rsh_w});
  wire signed [{{ cw_msb }}:0] contrib_w = s_neg_w ? cr_w : cl_w;
{%- if multi %}
  reg  [{{ acc_msb }}:0] xacc_q;
  reg         gnan_q, gsat_q;
  wire signed [{{ cw_msb }}:0] prev_w = first_blk_w ? {{ cw_w }}'sd0 : $signed({{ "{" }}{{ "{" }}{{ acc_pad }}{xacc_q[{{ acc_msb }}]}}, xacc_q});
{%- else %}
  wire signed [{{ cw_msb }}:0] prev_w = {{ cw_w }}'sd0;
{%- endif %}
  wire signed [{{ cw_msb }}:0] next_w = prev_w + contrib_w;
  wire signed [{{ cw_msb }}:0] max_w = {{ cw_w }}'sd{{ acc_max }};
  wire signed [{{ cw_msb }}:0] min_w = -{{ cw_w }}'sd{{ acc_max }} - {{ cw_w }}'sd1;
  wire        over_w  = next_w > max_w;
  wire        under_w = next_w < min_w;
  wire [{{ acc_msb }}:0] xsum_w = over_w ? max_w[{{ acc_msb }}:0] : under_w ? min_w[{{ acc_msb }}:0] : next_w[{{ acc_msb }}:0];
{%- if multi %}
  wire        gnan_w = bnan_w | (~first_blk_w & gnan_q);
  wire        gsat_w = over_w | under_w | (~first_blk_w & gsat_q);
{%- else %}
  wire        gnan_w = bnan_w;
  wire        gsat_w = over_w | under_w;
  wire        unused_first_w = first_blk_w;
{%- endif %}
  wire        emit_w = last_beat_w & last_blk_w;
  assign acc_o = gnan_w ? {{ acc_w }}'d0 : xsum_w;
  assign sat_o = ~gnan_w & gsat_w;
  assign nan_o = gnan_w;
  wire        unused_w = |{lim_w[{{ ww_msb }}:{{ cw_w }}], s_abs_w};
{%- else %}
  wire        emit_w = last_beat_w;
  // exp = scale_a + scale_b + ({{ exp_const }}), in {{ exp_w }}-bit two's complement.
  wire [{{ exp_msb }}:0] bexp_w = {{ "{" }}{{ exp_pad }}'d0, fsa_w} + {{ "{" }}{{ exp_pad }}'d0, fsb_w} + {{ exp_w }}'d{{ exp_add }};
  assign sum_o = bnan_w ? {{ sum_w }}'d0 : bsum_w;
  assign exp_o = bnan_w ? {{ exp_w }}'d0 : bexp_w;
  assign nan_o = bnan_w;
{%- endif %}

  // ---- output: a result leaves on a block's (or group's) last beat; other beats are absorbed ----
  assign take_w = emit_w ? ready_i : 1'b1;
  wire        fire_w = {{ last_valid }} & take_w;
  assign valid_o = {{ last_valid }} & emit_w;
{%- if has_counters %}
  always @(posedge clk_i) begin
    if (!rst_ni) begin
{%- if beats > 1 %}
      beat_q <= {{ beat_cnt_w }}'d0;
{%- endif %}
{%- if multi %}
      blk_q <= {{ blk_cnt_w }}'d0;
{%- endif %}
    end else if (fire_w) begin
{%- if beats > 1 %}
      beat_q <= last_beat_w ? {{ beat_cnt_w }}'d0 : beat_q + {{ beat_cnt_w }}'d1;
{%- endif %}
{%- if multi %}
      if (last_beat_w) blk_q <= last_blk_w ? {{ blk_cnt_w }}'d0 : blk_q + {{ blk_cnt_w }}'d1;
{%- endif %}
    end
  end
  always @(posedge clk_i) begin
    if (fire_w) begin
{%- if beats > 1 %}
      bacc_q <= {{ bsum_name }};
      bnan_q <= bnan_w;
{%- endif %}
{%- if multi %}
      if (last_beat_w) begin
{%- if fp32 %}
        facc_q <= fsum_w;
{%- else %}
        xacc_q <= xsum_w;
        gsat_q <= gsat_w;
{%- endif %}
        gnan_q <= gnan_w;
      end
{%- endif %}
    end
  end
{%- endif %}
{%- if stages.is_empty() && !has_counters %}
  // A combinational core: clock and reset are kept for the same interface on every pipeline.
  wire        unused_clk_w = clk_i | rst_ni;
{%- endif %}
{%- if !has_counters %}
  // Nothing to count: every beat is a whole block and every block a result.
  wire        unused_fire_w = fire_w;
{%- endif %}

endmodule

`default_nettype wire
