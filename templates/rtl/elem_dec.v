{{ banner }}
`default_nettype none
{% for line in about %}
// {{ line }}
{%- endfor %}
module {{ name }} (
  input  wire [{{ d.code_msb }}:0] code_i,
{%- if d.is_dialect %}
  input  wire [31:0] vals_i,
{%- endif %}
  output wire        sign_o,
  output wire [{{ d.sig_msb }}:0] sig_o,
  output wire [{{ d.sh_msb }}:0] shift_o,
  output wire        special_o
);
{%- if d.is_dialect %}

  // {sign, index}: the magnitude is the block dialect's value at the index (half-units).
  wire [2:0]  idx_w = code_i[2:0];
  assign sign_o    = code_i[3];
  assign sig_o     = vals_i[{idx_w, 2'b00} +: 4];
  assign shift_o   = 1'b0;
  assign special_o = 1'b0;
{%- else if d.is_int %}

  // INT8: two's complement; -128 decodes as -2.0 (magnitude 128).
  assign sign_o    = code_i[7];
  assign sig_o     = code_i[7] ? 8'd0 - code_i : code_i;
  assign shift_o   = 1'b0;
  assign special_o = 1'b0;
{%- else %}

  wire [{{ d.ebits_msb }}:0] e_w = code_i[{{ d.e_hi }}:{{ d.mbits }}];
  wire [{{ d.mbits_msb }}:0] f_w = code_i[{{ d.mbits_msb }}:0];
  wire        sub_w = ~|e_w;
  assign sign_o    = code_i[{{ d.code_msb }}];
  assign sig_o     = {~sub_w, f_w};
  // Normal binades shift by E - 1; subnormals share the first binade's step.
  assign shift_o   = sub_w ? {{ d.sh_w }}'d0 : e_w - {{ d.sh_w }}'d1;
{%- if d.special_nan_all_ones %}
  assign special_o = &code_i[{{ d.e_hi }}:0];
{%- else if d.special_ieee %}
  assign special_o = &e_w;
{%- else %}
  assign special_o = 1'b0;
{%- endif %}
{%- endif %}

endmodule

`default_nettype wire
