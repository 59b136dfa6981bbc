{%- import "rtl/floor.inc" as floor -%}
{{ c.banner }}
`default_nettype none

// BlockDialect (DialectFP4) block quantizer, {{ c.lanes }} of the block's {{ k }} elements per beat
// ({{ beats }} beats per block). A block needs its exponent before its magnitudes and its dialect
// before its codes, so it passes three banks in turn, each phase one beat per cycle:
//   fill    beats are decoded on arrival and stored; the block maximum accumulates
//   select  the stored beats stream through the selector statistics; the dialect is decided
//   emit    the stored beats stream out through the encoders
// With three banks the phases overlap, so one beat per cycle is sustained on both sides.
// Ports (flat, little-endian lanes: element i of a beat is bits [i*W +: W]):
//   data_i    {{ c.lanes }} x {{ c.n.dec.in_w }}-bit {{ c.input_format }} inputs, beats of a block in element order
//   scale_o   shared exponent, {{ c.scale_desc }}, on every beat of the block
//   dialect_o the block's dialect id ({{ c.selector }} selector), on every beat
//   codes_o   {{ c.lanes }} x 4-bit codes {sign, index into the dialect}
//   nan_o     the block held a NaN or an infinity (NaN scale, dialect 0, codes 0)
//   last_o    last beat of a block
// Handshake: AXI-Stream style valid/ready on both sides; data held while stalled.
// Latency: {{ latency }} cycles from the first input beat of a block to its first output beat.
module {{ c.name }} (
{{ c.port_decls }}
);
{%- include "rtl/stage_decls.inc" %}

  localparam [1:0] EMPTY = 2'd0, SELECT = 2'd1, READY = 2'd2;

  // ---- bank pointers, phases and beat counters ----
  reg  [1:0]  wr_q, sl_q, em_q;
  reg  [1:0]  st0_q, st1_q, st2_q;
  reg  [{{ beat_msb }}:0] wr_beat_q, sl_beat_q, em_beat_q;
  wire [1:0]  st_wr_w = (wr_q == 2'd0) ? st0_q : (wr_q == 2'd1) ? st1_q : st2_q;
  wire [1:0]  st_sl_w = (sl_q == 2'd0) ? st0_q : (sl_q == 2'd1) ? st1_q : st2_q;
  wire [1:0]  st_em_w = (em_q == 2'd0) ? st0_q : (em_q == 2'd1) ? st1_q : st2_q;
  wire        accept_w  = valid_i & (st_wr_w == EMPTY);
  wire        selecting_w = st_sl_w == SELECT;
  wire        em_ready_w = st_em_w == READY;
  wire        fire_w    = em_ready_w & {{ first_en }};
  wire        wr_last_w = wr_beat_q == {{ beat_w }}'d{{ beat_last }};
  wire        sl_last_w = sl_beat_q == {{ beat_w }}'d{{ beat_last }};
  wire        em_last_w = em_beat_q == {{ beat_w }}'d{{ beat_last }};
  wire        fill_done_w = accept_w & wr_last_w;
  wire        sel_done_w  = selecting_w & sl_last_w;
  wire        emit_done_w = fire_w & em_last_w;
  assign ready_o = st_wr_w == EMPTY;

  function [1:0] next_bank;
    input [1:0] b;
    begin
      next_bank = (b == 2'd2) ? 2'd0 : b + 2'd1;
    end
  endfunction

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      wr_q <= 2'd0; sl_q <= 2'd0; em_q <= 2'd0;
      st0_q <= EMPTY; st1_q <= EMPTY; st2_q <= EMPTY;
      wr_beat_q <= {{ beat_w }}'d0; sl_beat_q <= {{ beat_w }}'d0; em_beat_q <= {{ beat_w }}'d0;
    end else begin
      if (accept_w) begin
        wr_beat_q <= wr_last_w ? {{ beat_w }}'d0 : wr_beat_q + {{ beat_w }}'d1;
        if (wr_last_w) wr_q <= next_bank(wr_q);
      end
      if (selecting_w) begin
        sl_beat_q <= sl_last_w ? {{ beat_w }}'d0 : sl_beat_q + {{ beat_w }}'d1;
        if (sl_last_w) sl_q <= next_bank(sl_q);
      end
      if (fire_w) begin
        em_beat_q <= em_last_w ? {{ beat_w }}'d0 : em_beat_q + {{ beat_w }}'d1;
        if (em_last_w) em_q <= next_bank(em_q);
      end
      // Each bank is in one phase, and each pointer only moves a bank out of its own phase,
      // so no two of these touch the same bank in one cycle.
      if (fill_done_w && wr_q == 2'd0) st0_q <= SELECT;
      if (fill_done_w && wr_q == 2'd1) st1_q <= SELECT;
      if (fill_done_w && wr_q == 2'd2) st2_q <= SELECT;
      if (sel_done_w && sl_q == 2'd0) st0_q <= READY;
      if (sel_done_w && sl_q == 2'd1) st1_q <= READY;
      if (sel_done_w && sl_q == 2'd2) st2_q <= READY;
      if (emit_done_w && em_q == 2'd0) st0_q <= EMPTY;
      if (emit_done_w && em_q == 2'd1) st1_q <= EMPTY;
      if (emit_done_w && em_q == 2'd2) st2_q <= EMPTY;
    end
  end

  // ---- output pipeline handshake ----
{%- include "rtl/stages.inc" %}
  assign valid_o = {{ last_valid }};

  // ---- exponent threshold of a bank: tz = flb of 2^(e + 2) plus {{ c.n.z }}, clamped ----
  function [{{ c.n.tz_msb }}:0] tz_of;
    input [{{ c.n.dec.flb_msb }}:0] flb;
    reg   [{{ c.n.tz_msb }}:0] raw;
    begin
      raw = {{ "{" }}{{ c.n.tz_pad }}'d0, flb} + {{ c.n.tz_w }}'d{{ c.n.z }};
{%- if c.n.clamp_lo %}
      if (raw < {{ c.n.tz_w }}'d{{ c.n.tz_lo }}) raw = {{ c.n.tz_w }}'d{{ c.n.tz_lo }};
{%- endif %}
{%- if c.n.clamp_hi %}
      if (raw > {{ c.n.tz_w }}'d{{ c.n.tz_hi }}) raw = {{ c.n.tz_w }}'d{{ c.n.tz_hi }};
{%- endif %}
      tz_of = raw;
    end
  endfunction

  // ---- per lane: decode and store on arrival; magnitudes for selection and for emission ----
  wire [{{ c.m_bus_msb }}:0] m_sel_w;
  // Block-level values the lanes read, declared before the lanes that use them.
  wire [{{ c.n.tz_msb }}:0] tz_sel_w;
  wire [{{ c.n.tz_msb }}:0] tz_em_w;
  wire        em_zero_w;
  reg  [{{ c.n.thr_bus_msb }}:0] thr_w;
  genvar i;
  generate
    for (i = 0; i < {{ c.lanes }}; i = i + 1) begin : g_lane
      wire        sign_w, special_w, unused_sticky_w;
      wire [{{ c.n.dec.flb_msb }}:0] flb_w;
      wire [{{ c.n.dec.sig_msb }}:0] sig_w;
      {{ c.dec_name }} u_dec (
        .raw_i    (data_i[i*{{ c.n.dec.in_w }} +: {{ c.n.dec.in_w }}]),
        .sign_o   (sign_w),
        .special_o(special_w),
        .flb_o    (flb_w),
        .sig_o    (sig_w),
        .sticky_o (unused_sticky_w)
      );
      // The beat maximum is taken over {flb, sig}: for normalized values that orders by
      // magnitude, and it gives the block maximum's M directly.
      wire [{{ c.n.top.msb() }}:0] leaf_top_w     = {{ c.n.top.wires("_w") }};
      wire        leaf_special_w = special_w;
      // Storage {sign, flb, sig}, address {bank, beat}.
      reg  [{{ c.n.store.msb() }}:0] mem_q [0:{{ mem_last }}];
      always @(posedge clk_i) begin
        if (accept_w) mem_q[{wr_q, wr_beat_q}] <= {{ c.n.store.wires("_w") }};
      end
      wire [{{ c.n.store.msb() }}:0] rd_sel_w = mem_q[{sl_q, sl_beat_q}];
      wire [{{ c.n.store.msb() }}:0] rd_em_w  = mem_q[{em_q, em_beat_q}];
      wire [{{ c.n.m_msb }}:0] m_s_w, m_e_w;
      {{ c.mag_name }} u_mag_sel (
        .flb_i(rd_sel_w{{ c.n.store.slice("flb") }}),
        .sig_i(rd_sel_w{{ c.n.store.slice("sig") }}),
        .tz_i (tz_sel_w),
        .m_o  (m_s_w)
      );
      assign m_sel_w[i*{{ c.n.mw }} +: {{ c.n.mw }}] = m_s_w;
      // The select path needs only the magnitude.
      wire        unused_sel_sign_w = rd_sel_w{{ c.n.store.slice("sign") }};
      {{ c.mag_name }} u_mag_em (
        .flb_i(rd_em_w{{ c.n.store.slice("flb") }}),
        .sig_i(rd_em_w{{ c.n.store.slice("sig") }}),
        .tz_i (tz_em_w),
        .m_o  (m_e_w)
      );
      wire [3:0]  code_w;
      {{ c.enc_name }} u_enc (
        .sign_i(rd_em_w{{ c.n.store.slice("sign") }}),
        .m_i   (m_e_w),
        .thr_i (thr_w),
        .zero_i(em_zero_w),
        .code_o(code_w)
      );
{%- for o in outs %}
      reg  [3:0]  code_{{ o.name }}_q;
      always @(posedge clk_i) if ({{ o.en }}) code_{{ o.name }}_q <= {{ o.code_src }};
{%- endfor %}
      assign codes_o[i*4 +: 4] = {{ code_out }};
    end
  endgenerate

  // ---- fill: running block maximum of {flb, sig}, and NaN/Inf anywhere ----
{%- for nd in c.tree %}
{%- call floor::node(nd, c.n.top.msb(), "top", nd.max("top"), "special", nd.any("special")) %}{%- endcall %}
{%- endfor %}
  reg  [{{ c.n.top.msb() }}:0] run_top_q, top0_q, top1_q, top2_q;
  reg         run_special_q, special0_q, special1_q, special2_q;
  wire        first_w = wr_beat_q == {{ beat_w }}'d0;
  wire [{{ c.n.top.msb() }}:0] acc_top_w = (first_w || {{ c.tree_root }}_top_w > run_top_q) ? {{ c.tree_root }}_top_w : run_top_q;
  wire        acc_special_w = {{ c.tree_root }}_special_w | (~first_w & run_special_q);
  always @(posedge clk_i) begin
    if (accept_w) begin
      run_top_q     <= acc_top_w;
      run_special_q <= acc_special_w;
    end
    if (fill_done_w && wr_q == 2'd0) begin top0_q <= acc_top_w; special0_q <= acc_special_w; end
    if (fill_done_w && wr_q == 2'd1) begin top1_q <= acc_top_w; special1_q <= acc_special_w; end
    if (fill_done_w && wr_q == 2'd2) begin top2_q <= acc_top_w; special2_q <= acc_special_w; end
  end

  // ---- select: statistics of the bank's beats, accumulated, then the decision ----
  wire [{{ c.n.top.msb() }}:0] top_sl_w = (sl_q == 2'd0) ? top0_q : (sl_q == 2'd1) ? top1_q : top2_q;
  assign tz_sel_w = tz_of(top_sl_w{{ c.n.top.slice("flb") }});
{%- if two_stage %}
  // Stage 1 from the block maximum's magnitude.
  wire [{{ c.n.m_msb }}:0] mmax_w;
  {{ c.mag_name }} u_mag_max (
    .flb_i(top_sl_w{{ c.n.top.slice("flb") }}),
    .sig_i(top_sl_w[{{ c.n.m_msb }}:0]),
    .tz_i (tz_sel_w),
    .m_o  (mmax_w)
  );
  wire [3:0]  t_w = mmax_w[{{ s.t_hi }}:{{ s.t_lo }}];
{%- if s.t_lo > 0 %}
  wire unused_w = |mmax_w[{{ s.t_lo_msb }}:0];
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
    .m_i   (m_sel_w),
    .lo0_i (lo0_w), .hi0_i(hi0_w), .lo1_i(lo1_w), .hi1_i(hi1_w),
    .cnt0_o(cnt0_w), .cnt1_o(cnt1_w)
  );
  reg  [{{ acc_msb }}:0] acc0_q, acc1_q;
  wire [{{ acc_msb }}:0] tot0_w = (sl_beat_q == {{ beat_w }}'d0 ? {{ acc_w }}'d0 : acc0_q) + {{ "{" }}{{ cnt_pad }}'d0, cnt0_w};
  wire [{{ acc_msb }}:0] tot1_w = (sl_beat_q == {{ beat_w }}'d0 ? {{ acc_w }}'d0 : acc1_q) + {{ "{" }}{{ cnt_pad }}'d0, cnt1_w};
  always @(posedge clk_i) begin
    if (selecting_w) begin
      acc0_q <= tot0_w;
      acc1_q <= tot1_w;
    end
  end
  // More elements in its range wins; a tie goes to the even (first) member.
  wire [{{ s.id_msb }}:0] decided_w = (tot1_w > tot0_w) ? id1_w : id0_w;
{%- else %}
  // MSE needs no stage 1: the block maximum's significand goes unused here.
  wire        unused_w = |top_sl_w[{{ c.n.m_msb }}:0];
  wire [{{ s.errs_msb }}:0] err_w;
  {{ stats_name }} u_stats (
    .m_i  (m_sel_w),
    .err_o(err_w)
  );
  wire [{{ a.tots_msb }}:0] tots_w;
{%- for d in mse_rows %}
  reg  [{{ a.tot_msb }}:0] acc{{ d.id }}_q;
  wire [{{ a.tot_msb }}:0] tot{{ d.id }}_w = (sl_beat_q == {{ beat_w }}'d0 ? {{ a.sum_w }}'d0 : acc{{ d.id }}_q) + {{ "{" }}{{ err_pad }}'d0, err_w[{{ d.hi }}:{{ d.lo }}]};
  always @(posedge clk_i) if (selecting_w) acc{{ d.id }}_q <= tot{{ d.id }}_w;
  assign tots_w[{{ d.thi }}:{{ d.tlo }}] = tot{{ d.id }}_w;
{%- endfor %}
  wire [{{ s.id_msb }}:0] decided_w;
  {{ amin_name }} u_amin (
    .tot_i(tots_w),
    .id_o (decided_w)
  );
{%- endif %}
  reg  [3:0]  dialect0_q, dialect1_q, dialect2_q;
  wire [3:0]  decided4_w = {{ decided_ext }};
  always @(posedge clk_i) begin
    if (sel_done_w && sl_q == 2'd0) dialect0_q <= decided4_w;
    if (sel_done_w && sl_q == 2'd1) dialect1_q <= decided4_w;
    if (sel_done_w && sl_q == 2'd2) dialect2_q <= decided4_w;
  end

  // ---- emit: the bank's exponent, dialect and thresholds ----
  wire [{{ c.n.top.msb() }}:0] top_em_w = (em_q == 2'd0) ? top0_q : (em_q == 2'd1) ? top1_q : top2_q;
  wire        special_em_w = (em_q == 2'd0) ? special0_q : (em_q == 2'd1) ? special1_q : special2_q;
  wire [3:0]  dialect_sel_w = (em_q == 2'd0) ? dialect0_q : (em_q == 2'd1) ? dialect1_q : dialect2_q;
  assign tz_em_w = tz_of(top_em_w{{ c.n.top.slice("flb") }});
  wire        all_zero_w = ~|top_em_w{{ c.n.top.slice("flb") }};
  // The block maximum's significand only matters to selection.
  wire        unused_top_w = |top_em_w[{{ c.n.m_msb }}:0];
  // A NaN block forces its codes to 0; an all-zero block keeps each zero's sign.
  assign em_zero_w = special_em_w;
  wire [3:0]  dialect_w = special_em_w ? 4'd0 : dialect_sel_w;
  wire [{{ c.n.tz_msb }}:0] scale_full_w = tz_em_w - {{ c.n.tz_w }}'d{{ c.n.scale_off }};
  wire [{{ c.n.scale_msb }}:0] scale_w = special_em_w ? {{ c.n.scale_bits }}'d{{ c.n.scale_nan }} : all_zero_w ? {{ c.n.scale_bits }}'d0 : scale_full_w[{{ c.n.scale_msb }}:0];
  wire        unused_scale_w = |scale_full_w[{{ c.n.tz_msb }}:{{ c.n.scale_bits }}];
  always @* begin
    case (dialect_w)
{%- for d in c.thresholds %}
      4'd{{ d.id }}: thr_w = {{ d.bus }};
{%- endfor %}
      default: thr_w = {{ c.n.thr_bus_w }}'d0;
    endcase
  end

  // ---- outputs: {scale, dialect, nan, last} per beat ----
  wire [{{ out.msb() }}:0] out_w = {{ out_expr }};
{%- for o in outs %}
  reg  [{{ out.msb() }}:0] out_{{ o.name }}_q;
  always @(posedge clk_i) if ({{ o.en }}) out_{{ o.name }}_q <= {{ o.scale_src }};
{%- endfor %}
  assign scale_o   = {{ out_final }}{{ out.slice("scale") }};
  assign dialect_o = {{ out_final }}{{ out.slice("dialect") }};
  assign nan_o     = {{ out_final }}{{ out.slice("nan") }};
  assign last_o    = {{ out_final }}{{ out.slice("last") }};

endmodule

`default_nettype wire
