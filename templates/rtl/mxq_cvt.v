{{ banner }}
`default_nettype none

// One lane of element conversion, once the block threshold is known:
//   tzm_i = T (in {{ n.d_w }}-bit two's complement), where T = shared_exp + {{ n.flb_offset }} + emin is the flb of the
//   element format's smallest normal binade. Elements at or above it keep their binade and round the significand
//   to {{ n.elem_man_bits }} fraction bits; elements below it shift right by the gap (subnormal codes).
// Rounding is to nearest, ties to even; saturation to the largest finite magnitude comes after.
module {{ name }} (
{%- if d_cut || mid_cut %}
  input  wire        clk_i,
{%- endif %}
{%- if d_cut %}
  input  wire        en_d_i,
{%- endif %}
{%- if mid_cut %}
  input  wire        en_i,
{%- endif %}
  input  wire        sign_i,
  input  wire [{{ n.flb_msb }}:0] flb_i,
  input  wire [{{ n.sig_msb }}:0] sig_i,
  input  wire        sticky_i,
  input  wire [{{ n.d_msb }}:0] tzm_i,
  input  wire        zero_i,
  output wire [{{ n.el_msb }}:0] code_o
);

  // One subtraction per lane: d = flb - T in {{ n.d_w }} bits. d < 0: the element lies below the
  // threshold by gap = -d; the low bits of d are the element's exponent offset.
  wire [{{ n.d_msb }}:0] d_w     = {{ n.flb_ext }} - tzm_i;
  wire        below_w = d_w[{{ n.d_msb }}];
  wire        far_w   = below_w & (d_w < {{ n.d_w }}'d{{ n.far_below }});
{%- if d_cut %}
  // Registered after the subtraction (deep pipelines).
  reg  [{{ n.dl_msb }}:0] dl_q;
  reg         a_below_q, a_far_q, a_sign_q, a_sticky_q, a_zero_q;
  reg  [{{ n.sig_msb }}:0] a_sig_q;
  always @(posedge clk_i) begin
    if (en_d_i) begin
      dl_q       <= d_w[{{ n.dl_msb }}:0];
      a_below_q  <= below_w;
      a_far_q    <= far_w;
      a_sign_q   <= sign_i;
      a_sticky_q <= sticky_i;
      a_zero_q   <= zero_i;
      a_sig_q    <= sig_i;
    end
  end
  wire [{{ n.dl_msb }}:0] a_dl_w = dl_q;
  wire        a_below_w  = a_below_q;
  wire        a_far_w    = a_far_q;
  wire        a_sign_w   = a_sign_q;
  wire        a_sticky_w = a_sticky_q;
  wire        a_zero_w   = a_zero_q;
  wire [{{ n.sig_msb }}:0] a_sig_w = a_sig_q;
{%- else %}
  wire [{{ n.dl_msb }}:0] a_dl_w = d_w[{{ n.dl_msb }}:0];
  wire        a_below_w  = below_w;
  wire        a_far_w    = far_w;
  wire        a_sign_w   = sign_i;
  wire        a_sticky_w = sticky_i;
  wire        a_zero_w   = zero_i;
  wire [{{ n.sig_msb }}:0] a_sig_w = sig_i;
{%- endif %}
  wire [{{ n.eo_msb }}:0] eoff_w  = a_dl_w[{{ n.eo_msb }}:0];
  // Right shift: one place for the round bit, plus the gap for elements below the threshold;
  // past {{ n.sig_w_plus1 }} places every bit is gone and the result is 0. gap + 1 = ~d + 2.
  wire [{{ n.r_msb }}:0] shift_w = !a_below_w ? {{ n.r_w }}'d1
                     : a_far_w ? {{ n.r_w }}'d{{ n.sig_w_plus1 }}
                     : ~a_dl_w[{{ n.r_msb }}:0] + {{ n.r_w }}'d2;
  wire [{{ n.sig_w }}:0] ext_w   = {a_sig_w, 1'b0};
  wire [{{ n.sig_w }}:0] sh_w    = ext_w >> shift_w;
  wire [{{ n.sig_w }}:0] lost_w  = ext_w & ~({{ "{" }}{{ n.sig_w_plus1 }}{1'b1}} << shift_w);
  wire        tie_sticky_w = a_sticky_w | (|lost_w);
{%- if mid_cut %}
  // Registered half-way (after the shift): the rounding half starts from flip-flops.
  reg  [{{ n.sig_w }}:0] sh_q;
  reg  [{{ n.eo_msb }}:0] eoff_q;
  reg         tie_q, below_q, ezero_q, sign_q, zero_q;
  always @(posedge clk_i) begin
    if (en_i) begin
      sh_q    <= sh_w;
      eoff_q  <= eoff_w;
      tie_q   <= tie_sticky_w;
      below_q <= a_below_w;
      ezero_q <= ~a_sig_w[{{ n.sig_msb }}];
      sign_q  <= a_sign_w;
      zero_q  <= a_zero_w;
    end
  end
  wire [{{ n.sig_w }}:0] b_sh_w = sh_q;
  wire [{{ n.eo_msb }}:0] b_eoff_w = eoff_q;
  wire        b_tie_w = tie_q;
  wire        b_below_w = below_q;
  wire        b_ezero_w = ezero_q;
  wire        b_sign_w = sign_q;
  wire        b_zero_w = zero_q;
{%- else %}
  wire [{{ n.sig_w }}:0] b_sh_w = sh_w;
  wire [{{ n.eo_msb }}:0] b_eoff_w = eoff_w;
  wire        b_tie_w = tie_sticky_w;
  wire        b_below_w = a_below_w;
  wire        b_ezero_w = ~a_sig_w[{{ n.sig_msb }}];
  wire        b_sign_w = a_sign_w;
  wire        b_zero_w = a_zero_w;
{%- endif %}
  wire        round_up_w   = b_sh_w[0] & (b_tie_w | b_sh_w[1]);
  wire [{{ n.sig_msb }}:0] n_w     = b_sh_w[{{ n.sig_w }}:1] + {{ "{" }}{{ n.sig_msb }}'d0, round_up_w};
  wire [{{ n.cm_msb }}:0] mag_w   = (b_below_w ? {{ n.cm_w }}'d0 : {{ "{" }}{{ n.eoff_pad }}'d0, b_eoff_w, {{ n.elem_man_bits }}'d0})
                   + {{ "{" }}{{ n.cm_pad_n }}'d0, n_w};
  wire        sat_w       = mag_w > {{ n.cm_w }}'d{{ n.max_mag }};
  wire        elem_zero_w = b_ezero_w;
  wire [{{ n.mag_msb }}:0] sat_mag_w = elem_zero_w ? {{ n.mag_w }}'d0
                       : sat_w ? {{ n.mag_w }}'d{{ n.max_mag }} : mag_w[{{ n.mag_msb }}:0];
{%- if n.is_int %}

  // INT8: two's complement of the magnitude; there is no negative zero.
  wire [{{ n.el_msb }}:0] pos_w = {1'b0, sat_mag_w};
  wire [{{ n.el_msb }}:0] neg_w = {{ n.el_w }}'d0 - pos_w;
  assign code_o = b_zero_w ? {{ n.el_w }}'d0 : b_sign_w ? neg_w : pos_w;
{%- else %}

  assign code_o = b_zero_w ? {{ n.el_w }}'d0 : {b_sign_w, sat_mag_w};
{%- endif %}

endmodule

`default_nettype wire
