{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none

// The seven E2M1 midpoints of an NVFP4 block as {{ input }} thresholds: theta_j = m_j x s_b x s_t,
// m_j = 1/4, 3/4, 5/4, 7/4, 5/2, 7/2, 5, exact, then truncated into {{ input }} (toward zero,
// subnormals and all). None passes the range: s_b <= 2q (q = amax / 6 s_t rounds up by at most
// 2^-10 below 2^-6, by 1/16 above), so theta_j <= 5 s_b s_t <= (5/3) amax, whose exponent field
// is at most the infinity's, and there the pattern is at least the infinity's: above any
// finite |x|, as the real threshold is. Magnitudes order like their bit patterns, so an
// element passes midpoint j when |x| > pattern_j, or |x| == pattern_j and theta_j was exact
// (pattern_j == theta_j); exact_o[j / 2] says so for the odd j, where a tie rounds up (the
// even ones' ties round down, so only > counts there).
// s_b x s_t = Q x 2^(max(e_b,1) + max(e_t,1) - 160), Q = sig_b x sig_t; Q is normalized to qn
// (leading one at bit 27), and theta_j = (o_j x qn) x 2^(...) with o_j odd, so its trailing
// zeros are qn's: theta_j's pattern is exact when no bit below its significand is set.
module {{ name }} (
{%- if cut.registered %}
  input  wire        clk_i,
  input  wire        en_i,
{%- endif %}
  input  wire [6:0]  scale_i,
  input  wire [30:0] tscale_i,
  output wire [{{ 7 * n.mag_w - 1 }}:0] pat_o,
  output wire [2:0]  exact_o
);
  wire [3:0]  be_w   = scale_i[6:3];
  wire [3:0]  bsig_w = {|be_w, scale_i[2:0]};
  wire [3:0]  be1_w  = |be_w ? be_w : 4'd1;
  wire [7:0]  te_w   = tscale_i[30:23];
  wire [23:0] tsig_w = {|te_w, tscale_i[22:0]};
  wire [7:0]  te1_w  = |te_w ? te_w : 8'd1;
  wire [27:0] q_w    = {24'd0, bsig_w} * {4'd0, tsig_w};
  wire [4:0]  qlz_w  = {{ n.qlz_expr }};
  wire [4:0]  qtz_w  = {{ n.qtz_expr }};
  wire [27:0] qn_d_w = q_w << qlz_w;
  wire [5:0]  tz_d_w = {1'b0, qtz_w} + {1'b0, qlz_w};
  // The exponent field of theta_j, offset by {{ n.fo_off }}, is fb + c_j + (the product's top bit).
  wire [9:0]  fb_d_w = {6'd0, be1_w} + {2'd0, te1_w} + 10'd32 - {5'd0, qlz_w};
  // {fb, tz, qn}{% if cut.registered %}, registered halfway{% endif %}.
  wire [{{ n.thr_mid.msb() }}:0] mid_d_w = {{ n.thr_mid.wires("_d_w") }};
{%- call floor::cut(cut, n.thr_mid.msb(), "mid_q", "mid_w", "mid_d_w", "  ") %}{%- endcall %}
  wire [9:0]  fb_w = mid_w{{ n.thr_mid.slice("fb") }};
  wire [5:0]  tz_w = mid_w{{ n.thr_mid.slice("tz") }};
  wire [27:0] qn_w = mid_w{{ n.thr_mid.slice("qn") }};
  wire [30:0] r1_w   = {3'd0, qn_w};
  wire [30:0] r3_w   = {2'd0, qn_w, 1'b0} + {3'd0, qn_w};
  wire [30:0] r5_w   = {1'b0, qn_w, 2'd0} + {3'd0, qn_w};
  wire [30:0] r7_w   = {qn_w, 3'd0} - {3'd0, qn_w};
  // Everything that follows the exponent is computed for both values of the product's top bit
  // (from the registered fb alone), and the top bit only chooses. FO_OFF = {{ n.fo_off }} is a multiple
  // of 2^{{ n.ebits }}, so the field's bits are fo's.
  wire [10:0] tzfb_w = {1'b0, fb_w} + {5'd0, tz_w};
{%- for t in n.elem_thr %}
  // theta_{{ t.j }} = {{ t.m }} x s_b x s_t: ({{ t.o }} x qn) x 2^{{ t.p }}, leading one at bit {{ t.lo }} or {{ t.lo + 1 }}
  wire        top{{ t.j }}_w = r{{ t.o }}_w[{{ t.lo + 1 }}];
  wire [{{ n.mbits }}:0] sig{{ t.j }}_w = top{{ t.j }}_w ? r{{ t.o }}_w[{{ t.lo + 1 }}:{{ t.lo + 1 - n.mbits }}] : r{{ t.o }}_w[{{ t.lo }}:{{ t.lo - n.mbits }}];
  wire [9:0]  fo{{ t.j }}_w  = fb_w + 10'd{{ t.c }};
  wire [9:0]  fp{{ t.j }}_w  = fb_w + 10'd{{ t.c + 1 }};
  wire        nrm{{ t.j }}_w = top{{ t.j }}_w ? fo{{ t.j }}_w >= 10'd{{ n.normal_at - 1 }} : fo{{ t.j }}_w >= 10'd{{ n.normal_at }};
  // Below the normal range: shifted right by d = {{ n.normal_at }} - fo - top, all out from {{ n.d_max }} on.
  wire        far{{ t.j }}_w = top{{ t.j }}_w ? fo{{ t.j }}_w < 10'd{{ n.far_at - 1 }} : fo{{ t.j }}_w < 10'd{{ n.far_at }};
  wire [9:0]  dd{{ t.j }}_w  = 10'd{{ n.normal_at }} - (top{{ t.j }}_w ? fp{{ t.j }}_w : fo{{ t.j }}_w);
  wire [{{ n.d_w - 1 }}:0]  d{{ t.j }}_w   = far{{ t.j }}_w ? {{ n.d_w }}'d{{ n.d_max }} : dd{{ t.j }}_w[{{ n.d_w - 1 }}:0];
  wire [{{ n.ebits - 1 }}:0]  fld{{ t.j }}_w = top{{ t.j }}_w ? fp{{ t.j }}_w[{{ n.ebits - 1 }}:0] : fo{{ t.j }}_w[{{ n.ebits - 1 }}:0];
  assign pat_o[{{ t.j * n.mag_w }} +: {{ n.mag_w }}] = nrm{{ t.j }}_w ? {fld{{ t.j }}_w, sig{{ t.j }}_w[{{ n.mbits - 1 }}:0]} : {{ "{" }}{{ n.ebits - 1 }}'d0, sig{{ t.j }}_w >> d{{ t.j }}_w};
{%- if t.odd %}
  // Exact when no bit below the pattern is set: the {{ t.lo - n.mbits }} + top low bits of a normal one;
  // below the normal range d more, and then the top bit cancels: tz + fb >= {{ t.k }}.
  assign exact_o[{{ t.j / 2 }}] = nrm{{ t.j }}_w ? {1'b0, tz_w} >= 7'd{{ t.lo - n.mbits }} + {6'd0, top{{ t.j }}_w} : ~far{{ t.j }}_w & (tzfb_w >= 11'd{{ t.k }});
{%- endif %}
{%- endfor %}
  // Product bits outside every significand window, and the bits of fo above the field.
  wire        unused_w = |{r1_w, r3_w, r5_w, r7_w{% for t in n.elem_thr %}, fo{{ t.j }}_w, fp{{ t.j }}_w, dd{{ t.j }}_w{% endfor %}};
endmodule

`default_nettype wire
