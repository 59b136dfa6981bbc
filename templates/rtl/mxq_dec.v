{{ banner }}
`default_nettype none

// One lane of input decode. Nothing here depends on the block's shared exponent, so it runs
// before the block maximum is known, and it keeps only what the conversion needs:
//   flb_o    floor(log2 |x|) + {{ n.flb_offset }}, 0 for zero: the exponent the block max is taken over
//   sig_o    the top {{ n.sig_w }} bits of the normalized significand (leading one on top; 0 for zero)
//   sticky_o OR of the significand bits below sig_o (rounding needs nothing more of them)
module {{ name }} (
  input  wire [{{ n.in_msb }}:0] raw_i,
  output wire        sign_o,
  output wire        special_o,
  output wire [{{ n.flb_msb }}:0] flb_o,
  output wire [{{ n.sig_msb }}:0] sig_o,
  output wire        sticky_o
);

  wire [{{ n.exp_msb }}:0] exp_w  = raw_i[{{ n.exp_hi }}:{{ n.man_bits }}];
  wire [{{ n.man_msb }}:0] frac_w = raw_i[{{ n.man_msb }}:0];
  wire        normal_w = |exp_w;
  assign sign_o    = raw_i[{{ n.in_msb }}];
  assign special_o = &exp_w;
{%- if flush_subnormals %}

  // flush_subnormals: subnormal inputs count as (signed) zeros.
  wire [{{ n.man_bits }}:0] norm_w = normal_w ? {1'b1, frac_w} : {{ n.norm_w }}'d0;
{%- if n.flb_less_man %}
  // flb - {{ n.man_bits }}: the exponent field (a flushed subnormal's code is 0 whatever its flb).
  assign flb_o = {{ "{" }}{{ n.flb_pad_exp }}'d0, exp_w};
{%- else %}
  assign flb_o = normal_w ? {{ "{" }}{{ n.flb_pad_exp }}'d0, exp_w} + {{ n.flb_w }}'d{{ n.man_bits }} : {{ n.flb_w }}'d0;
{%- endif %}
{%- else %}

  // Subnormal inputs: the leading one of the fraction gives the exponent, and a left shift
  // puts it on top of the significand.
{%- if n.lead_min > 0 %}
  // A leading one below fraction bit {{ n.lead_min }} always gives a zero code: such inputs decode as zeros.
{%- endif %}
  function [{{ n.lead_msb }}:0] lead_one;
    input [{{ n.man_msb }}:{{ n.lead_min }}] f;
    integer j;
    begin
      lead_one = {{ n.lead_w }}'d0;
      for (j = {{ n.lead_min }}; j < {{ n.man_bits }}; j = j + 1)
{%- if n.lead_min_low > 0 %}
        if (f[j]) lead_one = j[{{ n.lead_msb }}:0] - {{ n.lead_w }}'d{{ n.lead_min_low }};
{%- else %}
        if (f[j]) lead_one = j[{{ n.lead_msb }}:0];
{%- endif %}
    end
  endfunction

  // The leading one's position counted from fraction bit {{ n.lead_min }}.
  wire [{{ n.lead_msb }}:0] lead_w    = lead_one(frac_w[{{ n.man_msb }}:{{ n.lead_min }}]);
  wire [{{ n.lead_msb }}:0] nshift_w  = {{ n.lead_w }}'d{{ n.lead_span }} - lead_w;
  wire [{{ n.man_bits }}:0] norm_w = normal_w ? {1'b1, frac_w} : ({1'b0, frac_w} << nshift_w);
{%- if n.flb_less_man %}
  // flb - {{ n.man_bits }} in two's complement: the exponent field of a normal input, at most 0 for a
  // subnormal (a zero's code is 0 whatever its flb, so it takes the subnormal's form).
  assign flb_o = normal_w  ? {{ "{" }}{{ n.flb_pad_exp }}'d0, exp_w}
               :             {{ "{" }}{{ n.flb_w - n.lead_w }}'d0, lead_w} + {{ n.flb_w }}'d{{ n.sub_add }};
{%- else %}
  wire        nonzero_w = |frac_w[{{ n.man_msb }}:{{ n.lead_min }}];
  assign flb_o = normal_w  ? {{ "{" }}{{ n.flb_pad_exp }}'d0, exp_w} + {{ n.flb_w }}'d{{ n.man_bits }}
               : nonzero_w ? {{ "{" }}{{ n.flb_w - n.lead_w }}'d0, lead_w} + {{ n.flb_w }}'d{{ n.sub_add }}
               :             {{ n.flb_w }}'d0;
{%- endif %}
{%- endif %}
{%- if n.sig_pad > 0 %}

  // The input has fewer significand bits than the conversion keeps: pad with zeros.
  assign sig_o    = {norm_w, {{ n.sig_pad }}'d0};
  assign sticky_o = 1'b0;
{%- else if n.sticky_bits > 0 %}

  assign sig_o    = norm_w[{{ n.man_bits }}:{{ n.sticky_bits }}];
  assign sticky_o = |norm_w[{{ n.sticky_msb }}:0];
{%- else %}

  assign sig_o    = norm_w;
  assign sticky_o = 1'b0;
{%- endif %}

endmodule

`default_nettype wire
