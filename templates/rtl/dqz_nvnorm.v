{{ banner }}
`default_nettype none

// One NVFP4 element times its block's significand product s_b x s_t, normalized (leading one
// at the top), and the value's binary exponent, biased so it is never negative. The block
// product comes normalized (leading one at its top bit), so an element significand of 1, 2 or
// 3 puts the product's leading one in one of the top three bits: eb = blk_eb - lz, with
// floor(log2 value) = eb - 159.
module {{ name }} (
  input  wire [{{ d.sig_msb }}:0] sig_i,
  input  wire [{{ d.sh_msb }}:0] shift_i,
  input  wire [{{ c.blk_msb }}:0] blk_sig_i,
  input  wire [{{ c.eb_msb }}:0] blk_eb_i,
  output wire [{{ c.sig_msb }}:0] sig_o,
  output wire [{{ c.eb_msb }}:0] eb_o,
  output wire        zero_o
);

  // The element significand is 0..3: the product is a sum of two shifted copies.
  wire [{{ c.sig_msb }}:0] prod_w = ({{ "{" }}{{ c.sig_w }}{sig_i[0]}} & {{ "{" }}{{ c.sig_w - c.blk_w }}'d0, blk_sig_i})
                       + ({{ "{" }}{{ c.sig_w }}{sig_i[1]}} & {1'b0, blk_sig_i, 1'b0});
  wire [1:0]  lz_w = prod_w[{{ c.sig_msb }}] ? 2'd0 : prod_w[{{ c.sig_msb - 1 }}] ? 2'd1 : 2'd2;
  assign sig_o  = prod_w << lz_w;
  assign eb_o   = blk_eb_i + {{ c.el_sh_ext }} - {{ c.lz_norm_ext }};
  assign zero_o = ~|prod_w;

endmodule

`default_nettype wire
