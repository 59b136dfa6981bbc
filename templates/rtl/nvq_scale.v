{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none

// NVFP4 block scale, rule `exact` (docs/numerics.md 3.3) without a divider:
// s_b = RNE(q) onto UE4M3, saturating at 448, q = amax / (6 s_t).
// amax = sig_a x 2^(A - {{ n.a_base }}) and s_t = sig_t x 2^(U - 173), both significands 24 bits with
// the leading one on top, so q = (sig_a / 3 sig_t) x 2^(G - 10), G = A - U + {{ n.k0 }}.
// With b = floor(log2(4 sig_a / 3 sig_t)) in {-1, 0, 1}, q's binade is H - 12, H = G + b: a normal
// scale when H >= 6, code (H - 6) x 8 + N; else a subnormal one, code N. N counts the midpoints
// (2j + 1) / 2, j = 0..15, that q / 2^(max(H - 12, -6) - 3) passes, by comparing sig_a << sh
// with 3 sig_t x (2j + 1): sh = 6 - b for a normal scale, G for a subnormal one (G <= 0: q is
// at most 2^-10, code 0). A tie goes to the even code: >= where j is odd, > where it is even.
module {{ name }} (
{%- if cut.registered %}
  input  wire        clk_i,
  input  wire        en_i,
{%- endif %}
  input  wire [{{ n.mag_msb }}:0] amax_i,
  input  wire [25:0] s3_i,
  input  wire [10:0] cu_i,
  input  wire        tbad_i,
  output wire [7:0]  scale_o,
  output wire        nan_o
);
  wire [{{ n.ebits - 1 }}:0]  ae_w = amax_i[{{ n.mag_msb }}:{{ n.mbits }}];
  wire [{{ n.mbits - 1 }}:0] am_w = amax_i[{{ n.mbits - 1 }}:0];
  wire [{{ n.alz_w - 1 }}:0]  alz_w = {{ n.alz_expr }};
  wire [{{ n.mbits }}:0] asub_w = {am_w, 1'b0} << alz_w;
  wire [23:0] siga_w = |ae_w ? {{ n.siga_normal }} : {{ n.siga_sub }};
  wire [10:0] a_w = |ae_w ? {{ "{" }}{{ 11 - n.ebits }}'d0, ae_w} + 11'd{{ n.mbits }} : 11'd{{ n.mbits }} - {{ "{" }}{{ 11 - n.alz_w }}'d0, alz_w};

  // A NaN or an infinity in the block, or a tensor scale that is not positive finite.
  wire        nan_d_w = (&ae_w) | tbad_i;

  wire [25:0] a4_w = {siga_w, 2'd0};
  wire        ge1_d_w = a4_w >= s3_i;
  wire        ge2_d_w = {1'b0, a4_w} >= {s3_i, 1'b0};
  // G in offset form, g = G + {{ n.g_off }} (cu_i = {{ n.g_add }} - U). H = G + b, b = ge1 + ge2 - 1: each
  // test of H is one of three tests of G, chosen by b once the comparisons settle.
  wire [10:0] g_d_w = a_w + cu_i;
  wire        zero_d_w = ~|amax_i;
  wire        normal_d_w = ge2_d_w ? g_d_w >= 11'd{{ n.g_off + 5 }} : ge1_d_w ? g_d_w >= 11'd{{ n.g_off + 6 }} : g_d_w >= 11'd{{ n.g_off + 7 }};
  wire        gpos_d_w   = g_d_w > 11'd{{ n.g_off }};
  // sh: 6 - b for a normal scale, G (1..6) for a subnormal one ({{ n.g_off }} is a multiple of 16).
  wire [2:0]  sh_d_w = normal_d_w ? 3'd7 - {2'd0, ge1_d_w} - {2'd0, ge2_d_w} : g_d_w[2:0];
  // A normal code is E1 x 8 + N' (E1 = H - 5 >= 1, N' the midpoints passed above the first
  // eight, 0..8): E1 and E1 + 1 now (their low four bits), so only a choice is left after the
  // comparisons; the code saturates when E1 >= 16, or E1 = 15 and N' >= 7.
  wire [3:0]  e1_d_w  = g_d_w[3:0] - (ge2_d_w ? 4'd4 : ge1_d_w ? 4'd5 : 4'd6);
  wire [3:0]  e1p_d_w = g_d_w[3:0] - (ge2_d_w ? 4'd3 : ge1_d_w ? 4'd4 : 4'd5);
  wire        big_d_w = ge2_d_w ? g_d_w >= 11'd{{ n.g_off + 20 }} : ge1_d_w ? g_d_w >= 11'd{{ n.g_off + 21 }} : g_d_w >= 11'd{{ n.g_off + 22 }};
  wire        e15_d_w = ge2_d_w ? g_d_w == 11'd{{ n.g_off + 19 }} : ge1_d_w ? g_d_w == 11'd{{ n.g_off + 20 }} : g_d_w == 11'd{{ n.g_off + 21 }};
  // {nan, zero, normal, gpos, big, e15, sh, E1 + 1, E1, 3 sig_t, sig_a}{% if cut.registered %}, registered halfway{% endif %}.
  wire [25:0] s3_d_w = s3_i;
  wire [23:0] sa_d_w = siga_w;
  wire [{{ n.scale_mid.msb() }}:0] mid_d_w = {{ n.scale_mid.wires("_d_w") }};
{%- call floor::cut(cut, n.scale_mid.msb(), "mid_q", "mid_w", "mid_d_w", "  ") %}{%- endcall %}
  assign nan_o = mid_w{{ n.scale_mid.slice("nan") }};
  wire        zero_w   = mid_w{{ n.scale_mid.slice("zero") }};
  wire        normal_w = mid_w{{ n.scale_mid.slice("normal") }};
  wire        gpos_w   = mid_w{{ n.scale_mid.slice("gpos") }};
  wire        big_w    = mid_w{{ n.scale_mid.slice("big") }};
  wire        e15_w    = mid_w{{ n.scale_mid.slice("e15") }};
  wire [2:0]  sh_w     = mid_w{{ n.scale_mid.slice("sh") }};
  wire [3:0]  e1p_w    = mid_w{{ n.scale_mid.slice("e1p") }};
  wire [3:0]  e1_w     = mid_w{{ n.scale_mid.slice("e1") }};
  wire [25:0] s3_w     = mid_w{{ n.scale_mid.slice("s3") }};
  wire [23:0] sa_w     = mid_w{{ n.scale_mid.slice("sa") }};
  wire [30:0] l_w = {7'd0, sa_w} << sh_w;
  // Midpoint j of a normal scale is j + 8 (N >= 8 there): the constant is chosen, not l shifted.
  wire [30:0] s3x_w = {5'd0, s3_w};
{%- for t in n.scale_thr %}
  wire        p{{ t.j }}_w = l_w {{ t.op }} (normal_w ? {{ t.product_hi }} : {{ t.product }});
{%- endfor %}
  // The tests pass as a thermometer: their count in binary.
  wire [3:0]  cnt_w = {{ n.cnt_expr }};
  wire        sat_w = big_w | (e15_w & (cnt_w >= 4'd7));
  wire [6:0]  cn_w = cnt_w[3] ? {e1p_w, 3'd0} : {e1_w, cnt_w[2:0]};
  assign scale_o = nan_o ? 8'h7f : zero_w ? 8'h00 : normal_w ? (sat_w ? 8'h7e : {1'b0, cn_w}) : gpos_w ? {4'd0, cnt_w} : 8'h00;
endmodule

`default_nettype wire
