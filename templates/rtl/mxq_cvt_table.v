{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none

// One lane of element conversion by table, once the block threshold is known:
//   tzm_i = T - {{ n.sig_w }} (in {{ n.d_w }}-bit two's complement), where T = shared_exp + {{ n.flb_offset }} + emin is the flb of the
//   element format's smallest normal binade. u = flb - tzm_i is negative when the element lies more than {{ n.sig_w }}
//   binades below T (it rounds to zero); otherwise u (< {{ t.u_w }} bits), the significand's fraction bits and sticky
//   index a table of the magnitude codes that shifting by the gap, rounding to nearest (ties to even) and saturating give.
module {{ name }} (
{%- if d_cut %}
  input  wire        clk_i,
  input  wire        en_d_i,
{%- endif %}
  input  wire        sign_i,
  input  wire [{{ n.flb_msb }}:0] flb_i,
  input  wire [{{ n.sig_msb }}:0] sig_i,
  input  wire        sticky_i,
  input  wire [{{ n.d_msb }}:0] tzm_i,
  input  wire        zero_i,
  output wire [{{ n.el_msb }}:0] code_o
);

  wire [{{ n.d_msb }}:0] u_w = {{ n.flb_ext }} - tzm_i;
  // {u, fraction bits, sticky, far, element zero, sign, block zero}
  wire [{{ t.key_w + 3 }}:0] lane_w = {u_w[{{ t.u_w - 1 }}:0], sig_i[{{ t.frac_msb }}:0], sticky_i, u_w[{{ n.d_msb }}], ~sig_i[{{ n.sig_msb }}], sign_i, zero_i};
{%- if d_cut %}
  // Registered after the subtraction (deep pipelines).
  reg  [{{ t.key_w + 3 }}:0] lane_q;
  always @(posedge clk_i) if (en_d_i) lane_q <= lane_w;
  wire [{{ t.key_w + 3 }}:0] a_w = lane_q;
{%- else %}
  wire [{{ t.key_w + 3 }}:0] a_w = lane_w;
{%- endif %}
{%- call floor::case_table("a_w[" ~ (t.key_w + 3) ~ ":4]", t.key_w, "tbl_w", n.mag_w, t.rows) %}{%- endcall %}
  wire        gone_w = a_w[3] | a_w[2];
  assign code_o = a_w[0] ? {{ n.el_w }}'d0 : {a_w[1], gone_w ? {{ n.mag_w }}'d0 : tbl_w};
  // Below its sign, u is less than 2^{{ t.u_w }} by construction.
  wire unused_w = |u_w[{{ n.d_msb - 1 }}:{{ t.u_w }}];

endmodule

`default_nettype wire
