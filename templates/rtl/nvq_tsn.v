{{ banner }}
`default_nettype none

// The tensor scale s_t prepared for the block scale, with the block max (it does not depend on
// the block): 3 sig_t (sig_t the 24-bit significand, leading one on top; FP32 subnormals
// normalized), cu = {{ n.g_add }} - U (s_t = sig_t x 2^(U - 173)), and whether s_t is not a positive finite
// number.
module {{ name }} (
  input  wire [31:0] tscale_i,
  output wire [25:0] s3_o,
  output wire [10:0] cu_o,
  output wire        bad_o
);
  wire [7:0]  te_w = tscale_i[30:23];
  wire [22:0] tm_w = tscale_i[22:0];
  wire [4:0]  tlz_w = {{ n.tlz_expr }};
  wire [23:0] tsub_w = {tm_w, 1'b0} << tlz_w;
  wire [23:0] sigt_w = |te_w ? {1'b1, tm_w} : tsub_w;
  wire [10:0] u_w = |te_w ? {3'd0, te_w} + 11'd23 : 11'd23 - {6'd0, tlz_w};
  assign s3_o  = {1'b0, sigt_w, 1'b0} + {2'd0, sigt_w};
  assign cu_o  = 11'd{{ n.g_add }} - u_w;
  assign bad_o = tscale_i[31] | (&te_w) | ~|tscale_i[30:0];
endmodule

`default_nettype wire
