{{ banner }}
`default_nettype none

// IEEE 754 binary32 addition, round to nearest even, subnormals kept. The smaller operand is
// aligned with guard, round and sticky bits, the exact signed sum goes to the rounding stage.
// Any NaN result is the canonical quiet NaN 0x7FC00000.
{%- if pipe %}
// Pipelined: registers on the operands, after their ordering by magnitude, after the
// alignment distance, after the alignment, after the exact sum, inside the rounding module
// ({{ round_latency }} stages) and on the result, so s_o is a_i + b_i of {{ latency }} cycles before. The
// registers load every cycle (no stall, no reset): the caller keeps its own valid bits beside
// them.
{%- endif %}
module {{ name }} (
{%- if pipe %}
  input  wire        clk_i,
{%- endif %}
  input  wire [31:0] a_i,
  input  wire [31:0] b_i,
  output wire [31:0] s_o
);

{%- if pipe %}
  reg  [31:0] a_w, b_w;
  always @(posedge clk_i) {a_w, b_w} <= {a_i, b_i};
{%- else %}
  wire [31:0] a_w = a_i, b_w = b_i;
{%- endif %}
  wire [7:0]  ea_w = a_w[30:23], eb_w = b_w[30:23];
  wire        a_nan_w = (&ea_w) & (|a_w[22:0]);
  wire        b_nan_w = (&eb_w) & (|b_w[22:0]);
  wire        a_inf_w = (&ea_w) & ~(|a_w[22:0]);
  wire        b_inf_w = (&eb_w) & ~(|b_w[22:0]);
  // Order by magnitude; subnormals use exponent 1 and no hidden bit.
  wire        a_big_w = a_w[30:0] >= b_w[30:0];
  // The result when an operand is NaN or infinite ({special, value}), and the sign of an
  // exact zero: +0, unless both operands were -0.
  wire        spec_w = a_nan_w | b_nan_w | a_inf_w | b_inf_w;
  wire [31:0] spec_v_w = (a_nan_w | b_nan_w | (a_inf_w & b_inf_w & (a_w[31] ^ b_w[31]))) ? 32'h7fc00000
                       : a_inf_w ? a_w : b_w;
  wire        zsign_w = a_w[31] & b_w[31];
{%- if pipe %}
  // The order, then the alignment, each a stage.
  reg  [31:0] big_w, sml_w, spec_v0_q;
  reg         spec0_q, zsign0_q;
  always @(posedge clk_i) begin
    {big_w, sml_w} <= a_big_w ? {a_w, b_w} : {b_w, a_w};
    {spec0_q, spec_v0_q, zsign0_q} <= {spec_w, spec_v_w, zsign_w};
  end
{%- else %}
  wire [31:0] big_w = a_big_w ? a_w : b_w;
  wire [31:0] sml_w = a_big_w ? b_w : a_w;
{%- endif %}
  wire [7:0]  eg_w = (big_w[30:23] == 8'd0) ? 8'd1 : big_w[30:23];
  wire [7:0]  es_w = (sml_w[30:23] == 8'd0) ? 8'd1 : sml_w[30:23];
  wire [26:0] mg_w = {|big_w[30:23], big_w[22:0], 3'b000};
  wire [26:0] ms_w = {|sml_w[30:23], sml_w[22:0], 3'b000};
  wire [7:0]  d_w  = eg_w - es_w;
  wire [4:0]  dd_w = (d_w > 8'd27) ? 5'd27 : d_w[4:0];
  wire        same_w = big_w[31] == sml_w[31];
{%- if pipe %}
  // The shift distance, then the shift, each a stage.
  reg  [31:0] spec_va_q;
  reg         speca_q, zsigna_q, nega_q, samea_q;
  reg  [7:0]  ega_q;
  reg  [4:0]  dda_q;
  reg  [26:0] mga_q, msa_q;
  always @(posedge clk_i) begin
    {speca_q, spec_va_q, zsigna_q, nega_q, samea_q} <= {spec0_q, spec_v0_q, zsign0_q, big_w[31], same_w};
    {ega_q, dda_q, mga_q, msa_q} <= {eg_w, dd_w, mg_w, ms_w};
  end
  wire [26:0] al_w = msa_q >> dda_q;
  wire        st_w = |(msa_q & ~(27'h7ffffff << dda_q));
  wire [26:0] sm_w = {al_w[26:1], al_w[0] | st_w};
  reg  [31:0] spec_v1_q;
  reg         spec1_q, zsign1_q, neg1_q, same1_q;
  reg  [7:0]  eg1_q;
  reg  [26:0] mg1_q, sm1_q;
  always @(posedge clk_i) begin
    {spec1_q, spec_v1_q, zsign1_q, neg1_q, same1_q} <= {speca_q, spec_va_q, zsigna_q, nega_q, samea_q};
    {eg1_q, mg1_q, sm1_q} <= {ega_q, mga_q, sm_w};
  end
  wire [27:0] r1_w = same1_q ? ({1'b0, mg1_q} + {1'b0, sm1_q}) : ({1'b0, mg1_q} - {1'b0, sm1_q});
  reg  [31:0] spec_v2_q;
  reg         spec2_q, zsign2_q, neg2_q;
  reg  [7:0]  eg2_q;
  reg  [27:0] r2_q;
  always @(posedge clk_i) begin
    {spec2_q, spec_v2_q, zsign2_q, neg2_q, eg2_q, r2_q} <= {spec1_q, spec_v1_q, zsign1_q, neg1_q, eg1_q, r1_w};
  end
  wire [31:0] rounded_w;
  {{ tof32_name }} u_round (
    .clk_i(clk_i),
    .neg_i(neg2_q),
    .mag_i(r2_q),
    .exp_i(eg2_q),
    .f32_o(rounded_w)
  );
  // The special cases wait beside the rounding: {special, exact zero, zero sign, value}.
  wire [34:0] side_w = {spec2_q, ~|r2_q, zsign2_q, spec_v2_q};
  reg  [{{ round_latency * 35 - 1 }}:0] side_q;
  always @(posedge clk_i) side_q <= {{ side_shift }};
  wire [34:0] side_end_w = side_q[{{ round_latency * 35 - 1 }}:{{ (round_latency - 1) * 35 }}];
  reg  [31:0] s_q;
  always @(posedge clk_i) begin
    s_q <= side_end_w[34] ? side_end_w[31:0] : side_end_w[33] ? {side_end_w[32], 31'd0} : rounded_w;
  end
  assign s_o = s_q;
{%- else %}
  wire [26:0] al_w = ms_w >> dd_w;
  wire        st_w = |(ms_w & ~(27'h7ffffff << dd_w));
  wire [26:0] sm_w = {al_w[26:1], al_w[0] | st_w};
  wire [27:0] r_w = same_w ? ({1'b0, mg_w} + {1'b0, sm_w}) : ({1'b0, mg_w} - {1'b0, sm_w});
  wire [31:0] rounded_w;
  {{ tof32_name }} u_round (
    .neg_i(big_w[31]),
    .mag_i(r_w),
    .exp_i(eg_w),
    .f32_o(rounded_w)
  );
  assign s_o = spec_w ? spec_v_w : (~|r_w) ? {zsign_w, 31'd0} : rounded_w;
{%- endif %}

endmodule

`default_nettype wire
