{{ banner }}
`default_nettype none

// One element's significand normalized (leading one at the top) and the value's binary
// exponent, biased so it is never negative: eb = scale + shift + position of the leading one.
module {{ name }} (
  input  wire [{{ c.sig_msb }}:0] sig_i,
  input  wire [{{ c.sh_msb }}:0] shift_i,
  input  wire [7:0]  scale_i,
  output wire [{{ c.sig_msb }}:0] sig_o,
  output wire [{{ c.eb_msb }}:0] eb_o,
  output wire        zero_o
);

  wire [{{ c.lz_msb }}:0] lz_w = {{ c.lz_expr }};
  assign sig_o  = sig_i << lz_w;
  assign eb_o   = {{ c.scale_ext }} + {{ c.shift_ext }} + {{ c.eb_w }}'d{{ c.sig_msb }} - {{ c.lz_ext }};
  assign zero_o = ~|sig_i;

endmodule

`default_nettype wire
