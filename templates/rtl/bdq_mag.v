{{ banner }}
`default_nettype none

// One lane of scaled magnitude: M = floor(|x| * 2^(F - e)) with F = {{ n.frac }}, truncated, and
// saturated at 8 - 2^-F. tz_i = flb of 2^(e + 2), plus {{ n.z }}: an element in that binade keeps
// its top {{ n.mw }} significand bits as M (m in [4, 8)); each binade below shifts M right by one.
module {{ name }} (
{%- if gap.registered %}
  input  wire        clk_i,
  input  wire        en_i,
{%- endif %}
  input  wire [{{ n.dec.flb_msb }}:0] flb_i,
  input  wire [{{ n.dec.sig_msb }}:0] sig_i,
  input  wire [{{ n.tz_msb }}:0] tz_i,
  output wire [{{ n.m_msb }}:0] m_o
);

  wire [{{ n.tz_msb }}:0] flz_w   = {{ "{" }}{{ n.tz_pad }}'d0, flb_i} + {{ n.tz_w }}'d{{ n.z }};
  // Above the top binade: only when the exponent clamped at its largest value.
  wire        sat_d_w = flz_w > tz_i;
  wire [{{ n.tz_msb }}:0] gap_w   = tz_i - flz_w;
  wire        gone_d_w = gap_w > {{ n.tz_w }}'d{{ n.m_msb }};
  // {sat, gone, shift, sig}: what the shift needs.
  wire [{{ n.sh_in.msb() }}:0] sh_in_d_w = {sat_d_w, gone_d_w, gap_w[{{ n.sh_msb }}:0], sig_i};
{%- if gap.registered %}
  // Registered after the subtraction: the shift starts its own stage.
  reg  [{{ n.sh_in.msb() }}:0] sh_in_q;
  always @(posedge clk_i) if (en_i) sh_in_q <= sh_in_d_w;
  wire [{{ n.sh_in.msb() }}:0] sh_in_w = sh_in_q;
{%- else %}
  wire [{{ n.sh_in.msb() }}:0] sh_in_w = sh_in_d_w;
{%- endif %}
  wire        sat_w   = sh_in_w{{ n.sh_in.slice("sat") }};
  wire        gone_w  = sh_in_w{{ n.sh_in.slice("gone") }};
  wire [{{ n.dec.sig_msb }}:0] sig_w   = sh_in_w{{ n.sh_in.slice("sig") }};
  wire [{{ n.m_msb }}:0] sh_w    = sig_w >> sh_in_w{{ n.sh_in.slice("shift") }};
  // A zero element is 0 whatever the gap (its flb of 0 may sit above a clamped threshold).
  wire        zero_w  = ~sig_w[{{ n.dec.sig_msb }}];
  assign m_o = zero_w ? {{ n.mw }}'d0 : sat_w ? {{ "{" }}{{ n.mw }}{1'b1}} : gone_w ? {{ n.mw }}'d0 : sh_w;

endmodule

`default_nettype wire
