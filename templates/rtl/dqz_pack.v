{{ banner }}
`default_nettype none

// One value in the output format: exact when it is a normal number (the significand fits),
// rounded to nearest, ties to even, when it is subnormal; infinity past the largest finite
// value; the canonical quiet NaN for NaN inputs; zero keeps its sign.
{%- if c.rounds %}
// Here the significand is wider than the mantissa, so normal values round (nearest, ties to
// even) too; a carry out of the mantissa steps the exponent, into infinity from the top binade.
{%- endif %}
module {{ name }} (
  input  wire        sign_i,
  input  wire        nan_i,
  input  wire        zero_i,
  input  wire [{{ c.sig_msb }}:0] sig_i,
  input  wire [{{ c.eb_msb }}:0] eb_i,
  output wire [{{ c.out_msb }}:0] value_o
);

  wire        ovf_w    = eb_i > {{ c.eb_w }}'d{{ c.ovf_at }};
  wire        normal_w = eb_i >= {{ c.eb_w }}'d{{ c.normal_at }};
  wire [{{ c.eb_msb }}:0] field_w  = eb_i - {{ c.eb_w }}'d{{ c.field_off }};
{%- if c.rounds %}
  wire [{{ c.mbits_msb }}:0] frac_w = sig_i[{{ c.sig_msb - 1 }}:{{ c.wide_lo }}];
  wire [{{ c.mbits }}:0] wide_w = sig_i[{{ c.sig_msb }}:{{ c.wide_lo }}];
  wire        below_w = |sig_i[{{ c.guard }}:0];
  wire        sticky_n_w = {% if c.has_sticky %}|sig_i[{{ c.sticky_msb }}:0]{% else %}1'b0{% endif %};
  wire        up_n_w = sig_i[{{ c.guard }}] & (sticky_n_w | frac_w[0]);
  wire [{{ c.out_msb - 1 }}:0] normal_v_w = {field_w[{{ c.out_ebits_msb }}:0], frac_w} + {{ "{" }}{{ c.out_msb - 1 }}'d0, up_n_w};
{%- else if c.frac_pad > 0 %}
  wire [{{ c.mbits_msb }}:0] frac_w = {sig_i[{{ c.sig_msb - 1 }}:0], {{ c.frac_pad }}'d0};
  wire [{{ c.mbits }}:0] wide_w = {sig_i, {{ c.frac_pad }}'d0};
{%- else %}
  wire [{{ c.mbits_msb }}:0] frac_w = sig_i[{{ c.sig_msb - 1 }}:0];
  wire [{{ c.mbits }}:0] wide_w = sig_i;
{%- endif %}

  // Subnormal: shift right by how far the value is below the smallest normal, round to nearest
  // even (a carry into the smallest normal gives its code).
  wire [{{ c.eb_msb }}:0] gap_w    = {{ c.eb_w }}'d{{ c.normal_at }} - eb_i;
  wire [{{ c.shr_msb }}:0] sh_w     = (gap_w > {{ c.eb_w }}'d{{ c.sh_max }}) ? {{ c.shr_w }}'d{{ c.sh_max }} : gap_w[{{ c.shr_msb }}:0];
  wire [{{ c.mbits }}:0] half_w   = {{ c.wide_w }}'d1 << (sh_w - {{ c.shr_w }}'d1);
  wire        guard_w  = |(wide_w & half_w);
  wire        sticky_w = |(wide_w & (half_w - {{ c.wide_w }}'d1)){% if c.rounds %} | below_w{% endif %};
  wire [{{ c.mbits }}:0] kept_w   = wide_w >> sh_w;
  wire [{{ c.mbits }}:0] sub_w    = kept_w + {{ "{" }}{{ c.mbits }}'d0, guard_w & (sticky_w | kept_w[0])};
  // Only the low bits of the field and the gap are used: when they matter, the rest are zero.
  wire        unused_w = ^{field_w[{{ c.eb_msb }}:{{ c.out_ebits }}], gap_w[{{ c.eb_msb }}:{{ c.shr_w }}]};

  assign value_o = nan_i    ? {{ c.nan_code }}
                 : zero_i   ? {sign_i, {{ c.out_msb }}'d0}
                 : ovf_w    ? {sign_i, {{ c.inf_code }}}
{%- if c.rounds %}
                 : normal_w ? {sign_i, normal_v_w}
{%- else %}
                 : normal_w ? {sign_i, field_w[{{ c.out_ebits_msb }}:0], frac_w}
{%- endif %}
                 :            {sign_i, {{ c.out_ebits_msb }}'d0, sub_w};

endmodule

`default_nettype wire
