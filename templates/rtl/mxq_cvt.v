{{ banner }}
`default_nettype none

// One lane of element conversion, once the block threshold is known:
//   tz_i = T + {{ n.z }}, where T = shared_exp + {{ n.flb_offset }} + emin is the flb of the element format's
//   smallest normal binade. Elements at or above it keep their binade and round the significand
//   to {{ n.elem_man_bits }} fraction bits; elements below it shift right by the gap (subnormal codes).
// Rounding is to nearest, ties to even; saturation to the largest finite magnitude comes after.
module {{ name }} (
  input  wire        sign_i,
  input  wire [{{ n.flb_msb }}:0] flb_i,
  input  wire [{{ n.sig_msb }}:0] sig_i,
  input  wire        sticky_i,
  input  wire [{{ n.tz_msb }}:0] tz_i,
  input  wire        zero_i,
  output wire [{{ n.el_msb }}:0] code_o
);

  wire [{{ n.tz_msb }}:0] flz_w   = {{ "{" }}{{ n.tz_pad }}'d0, flb_i} + {{ n.tz_w }}'d{{ n.z }};
  wire        below_w = flz_w < tz_i;
  wire [{{ n.tz_msb }}:0] gap_w   = tz_i - flz_w;
  wire [{{ n.eo_msb }}:0] eoff_w  = flz_w[{{ n.eo_msb }}:0] - tz_i[{{ n.eo_msb }}:0];
  // Right shift: one place for the round bit, plus the gap for elements below the threshold;
  // past {{ n.sig_w_plus1 }} places every bit is gone and the result is 0.
  wire [{{ n.r_msb }}:0] shift_w = !below_w ? {{ n.r_w }}'d1
                     : (gap_w > {{ n.tz_w }}'d{{ n.sig_w }}) ? {{ n.r_w }}'d{{ n.sig_w_plus1 }}
                     : gap_w[{{ n.r_msb }}:0] + {{ n.r_w }}'d1;
  wire [{{ n.sig_w }}:0] ext_w   = {sig_i, 1'b0};
  wire [{{ n.sig_w }}:0] sh_w    = ext_w >> shift_w;
  wire [{{ n.sig_w }}:0] lost_w  = ext_w & ~({{ "{" }}{{ n.sig_w_plus1 }}{1'b1}} << shift_w);
  wire        tie_sticky_w = sticky_i | (|lost_w);
  wire        round_up_w   = sh_w[0] & (tie_sticky_w | sh_w[1]);
  wire [{{ n.sig_msb }}:0] n_w     = sh_w[{{ n.sig_w }}:1] + {{ "{" }}{{ n.sig_msb }}'d0, round_up_w};
  wire [{{ n.cm_msb }}:0] mag_w   = (below_w ? {{ n.cm_w }}'d0 : {{ "{" }}{{ n.eoff_pad }}'d0, eoff_w, {{ n.elem_man_bits }}'d0})
                   + {{ "{" }}{{ n.cm_pad_n }}'d0, n_w};
  wire        sat_w       = mag_w > {{ n.cm_w }}'d{{ n.max_mag }};
  wire        elem_zero_w = ~sig_i[{{ n.sig_msb }}];
  wire [{{ n.mag_msb }}:0] sat_mag_w = elem_zero_w ? {{ n.mag_w }}'d0
                       : sat_w ? {{ n.mag_w }}'d{{ n.max_mag }} : mag_w[{{ n.mag_msb }}:0];
{%- if n.is_int %}

  // INT8: two's complement of the magnitude; there is no negative zero.
  wire [{{ n.el_msb }}:0] pos_w = {1'b0, sat_mag_w};
  wire [{{ n.el_msb }}:0] neg_w = {{ n.el_w }}'d0 - pos_w;
  assign code_o = zero_i ? {{ n.el_w }}'d0 : sign_i ? neg_w : pos_w;
{%- else %}

  assign code_o = zero_i ? {{ n.el_w }}'d0 : {sign_i, sat_mag_w};
{%- endif %}

endmodule

`default_nettype wire
