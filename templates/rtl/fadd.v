{{ banner }}
`default_nettype none

// IEEE 754 binary32 addition, round to nearest even, subnormals kept. The smaller operand is
// aligned with guard, round and sticky bits, the exact signed sum goes to the rounding stage.
// Any NaN result is the canonical quiet NaN 0x7FC00000.
module {{ name }} (
  input  wire [31:0] a_i,
  input  wire [31:0] b_i,
  output wire [31:0] s_o
);

  wire [7:0]  ea_w = a_i[30:23], eb_w = b_i[30:23];
  wire        a_nan_w = (&ea_w) & (|a_i[22:0]);
  wire        b_nan_w = (&eb_w) & (|b_i[22:0]);
  wire        a_inf_w = (&ea_w) & ~(|a_i[22:0]);
  wire        b_inf_w = (&eb_w) & ~(|b_i[22:0]);
  // Order by magnitude; subnormals use exponent 1 and no hidden bit.
  wire        a_big_w = a_i[30:0] >= b_i[30:0];
  wire [31:0] big_w = a_big_w ? a_i : b_i;
  wire [31:0] sml_w = a_big_w ? b_i : a_i;
  wire [7:0]  eg_w = (big_w[30:23] == 8'd0) ? 8'd1 : big_w[30:23];
  wire [7:0]  es_w = (sml_w[30:23] == 8'd0) ? 8'd1 : sml_w[30:23];
  wire [26:0] mg_w = {|big_w[30:23], big_w[22:0], 3'b000};
  wire [26:0] ms_w = {|sml_w[30:23], sml_w[22:0], 3'b000};
  wire [7:0]  d_w  = eg_w - es_w;
  wire [4:0]  dd_w = (d_w > 8'd27) ? 5'd27 : d_w[4:0];
  wire [26:0] al_w = ms_w >> dd_w;
  wire        st_w = |(ms_w & ~(27'h7ffffff << dd_w));
  wire [26:0] sm_w = {al_w[26:1], al_w[0] | st_w};
  wire        same_w = big_w[31] == sml_w[31];
  wire [27:0] r_w = same_w ? ({1'b0, mg_w} + {1'b0, sm_w}) : ({1'b0, mg_w} - {1'b0, sm_w});
  wire [31:0] rounded_w;
  {{ tof32_name }} u_round (
    .neg_i(big_w[31]),
    .mag_i(r_w),
    .exp_i(eg_w),
    .f32_o(rounded_w)
  );
  // An exact zero is +0, unless both operands were -0.
  wire        zero_w = ~|r_w;
  assign s_o = (a_nan_w | b_nan_w | (a_inf_w & b_inf_w & (a_i[31] ^ b_i[31]))) ? 32'h7fc00000
             : a_inf_w ? a_i
             : b_inf_w ? b_i
             : zero_w ? {a_i[31] & b_i[31], 31'd0}
             : rounded_w;

endmodule

`default_nettype wire
