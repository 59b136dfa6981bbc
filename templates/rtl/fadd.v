{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none

// IEEE 754 binary32 addition, round to nearest even, subnormals kept. The smaller operand is
// aligned with guard, round and sticky bits, the exact signed sum goes to the rounding stage.
// Any NaN result is the canonical quiet NaN 0x7FC00000.
{%- if pipe %}
// Pipelined: registers on the operands, after each of the four steps below, inside the
// rounding module ({{ round_latency }} stages) and on the result, so s_o is a_i + b_i of {{ latency }} cycles
// before. The registers load every cycle (no stall, no reset): the caller keeps its own valid
// bits beside them.
{%- endif %}
module {{ name }} (
{%- if pipe %}
  input  wire        clk_i,
{%- endif %}
  input  wire [31:0] a_i,
  input  wire [31:0] b_i,
  output wire [31:0] s_o
);
{% call floor::pipe_cut(pipe, 32, "a0", "a_i") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 32, "b0", "b_i") %}{% endcall %}
  // 1. The order by magnitude; subnormals use exponent 1 and no hidden bit.
  wire [7:0]  ea_w = a0_w[30:23], eb_w = b0_w[30:23];
  wire        a_nan_w = (&ea_w) & (|a0_w[22:0]);
  wire        b_nan_w = (&eb_w) & (|b0_w[22:0]);
  wire        a_inf_w = (&ea_w) & ~(|a0_w[22:0]);
  wire        b_inf_w = (&eb_w) & ~(|b0_w[22:0]);
  wire        a_big_w = a0_w[30:0] >= b0_w[30:0];
  // The result when an operand is NaN or infinite ({special, value}), and the sign of an
  // exact zero: +0, unless both operands were -0. They travel beside the sum as
  // {special, zero sign, value}.
  wire        spec_w = a_nan_w | b_nan_w | a_inf_w | b_inf_w;
  wire [31:0] spec_v_w = (a_nan_w | b_nan_w | (a_inf_w & b_inf_w & (a0_w[31] ^ b0_w[31]))) ? 32'h7fc00000
                       : a_inf_w ? a0_w : b0_w;
  wire        zsign_w = a0_w[31] & b0_w[31];
  // The exponent difference both ways, beside the order; the order picks the one that is not
  // negative.
  wire [7:0]  xa_w = (ea_w == 8'd0) ? 8'd1 : ea_w;
  wire [7:0]  xb_w = (eb_w == 8'd0) ? 8'd1 : eb_w;
  wire [7:0]  dab_w = xa_w - xb_w;
  wire [7:0]  dba_w = xb_w - xa_w;
{%- call floor::pipe_cut(pipe, 32, "big1", "a_big_w ? a0_w : b0_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 32, "sml1", "a_big_w ? b0_w : a0_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 8, "eg1", "a_big_w ? xa_w : xb_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 8, "d1", "a_big_w ? dab_w : dba_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 34, "side1", "{spec_w, zsign_w, spec_v_w}") %}{% endcall %}
  // 2. The alignment distance, at most the significand's 27 bits.
  wire [26:0] mg_w = {|big1_w[30:23], big1_w[22:0], 3'b000};
  wire [26:0] ms_w = {|sml1_w[30:23], sml1_w[22:0], 3'b000};
  wire [4:0]  dd_w = (d1_w > 8'd27) ? 5'd27 : d1_w[4:0];
  wire        same_w = big1_w[31] == sml1_w[31];
{%- call floor::pipe_cut(pipe, 34, "side2", "side1_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "neg2", "big1_w[31]") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "same2", "same_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 8, "eg2", "eg1_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 5, "dd2", "dd_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 27, "mg2", "mg_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 27, "ms2", "ms_w") %}{% endcall %}
  // 3. The alignment, with a sticky bit.
  wire [26:0] al_w = ms2_w >> dd2_w;
  wire        st_w = |(ms2_w & ~(27'h7ffffff << dd2_w));
  wire [26:0] sm_w = {al_w[26:1], al_w[0] | st_w};
{%- call floor::pipe_cut(pipe, 34, "side3", "side2_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "neg3", "neg2_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "same3", "same2_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 8, "eg3", "eg2_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 27, "mg3", "mg2_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 27, "sm3", "sm_w") %}{% endcall %}
  // 4. The exact sum.
  wire [27:0] r_w = same3_w ? ({1'b0, mg3_w} + {1'b0, sm3_w}) : ({1'b0, mg3_w} - {1'b0, sm3_w});
{%- call floor::pipe_cut(pipe, 34, "side4", "side3_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "neg4", "neg3_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 8, "eg4", "eg3_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 28, "r4", "r_w") %}{% endcall %}
  wire [31:0] rounded_w;
  {{ tof32_name }} u_round (
{%- if pipe %}
    .clk_i(clk_i),
{%- endif %}
    .neg_i(neg4_w),
    .mag_i(r4_w),
    .exp_i(eg4_w),
    .f32_o(rounded_w)
  );
  // The special cases wait beside the rounding: {special, exact zero, zero sign, value}.
  wire [34:0] side_w = {side4_w[33], ~|r4_w, side4_w[32:0]};
{%- if pipe %}
  reg  [{{ round_latency * 35 - 1 }}:0] side_q;
  always @(posedge clk_i) side_q <= {{ side_shift }};
  wire [34:0] side_end_w = side_q[{{ round_latency * 35 - 1 }}:{{ (round_latency - 1) * 35 }}];
{%- else %}
  wire [34:0] side_end_w = side_w;
{%- endif %}
  wire [31:0] s_w = side_end_w[34] ? side_end_w[31:0] : side_end_w[33] ? {side_end_w[32], 31'd0} : rounded_w;
{%- call floor::pipe_cut(pipe, 32, "s5", "s_w") %}{% endcall %}
  assign s_o = s5_w;

endmodule

`default_nettype wire
