{{ banner }}
`default_nettype none

// (-1)^neg * mag * 2^(exp_i - {{ t.xb }}) rounded to FP32: nearest, ties to even, subnormals
// kept, overflow to infinity. A zero magnitude gives +0.
{%- if pipe %}
// Pipelined: registers after the leading-zero count, after the normalisation, after the
// rounding distance and after the rounding decision, so f32_o is the value of the inputs of {{ pipe_latency }} cycles before. The
// registers load every cycle (no stall, no reset): the caller keeps its valid bits beside them.
{%- endif %}
module {{ name }} (
{%- if pipe %}
  input  wire        clk_i,
{%- endif %}
  input  wire        neg_i,
  input  wire [{{ t.mw_msb }}:0] mag_i,
  input  wire [{{ t.xw_msb }}:0] exp_i,
  output wire [31:0] f32_o
);

  function [{{ t.lz_msb }}:0] lead_zeros;
    input [{{ t.nw_msb }}:0] v;
    integer j;
    begin
      lead_zeros = {{ t.lz_w }}'d{{ t.nw }};
      for (j = 0; j < {{ t.nw }}; j = j + 1)
        if (v[j]) lead_zeros = {{ t.nw_msb }} - j[{{ t.lz_msb }}:0];
    end
  endfunction

  wire [{{ t.nw_msb }}:0] pad_w  = {{ t.pad_expr }};
  wire [{{ t.lz_msb }}:0] lz_w   = lead_zeros(pad_w);
  wire        zero_w = ~|mag_i;
{%- if pipe %}
  reg  [{{ t.nw_msb }}:0] pad1_q;
  reg  [{{ t.lz_msb }}:0] lz1_q;
  reg  [{{ t.xw_msb }}:0] exp1_q;
  reg         neg1_q, zero1_q;
  always @(posedge clk_i) {neg1_q, zero1_q, exp1_q, lz1_q, pad1_q} <= {neg_i, zero_w, exp_i, lz_w, pad_w};
  wire [{{ t.nw_msb }}:0] norm_w = pad1_q << lz1_q;
  // flb = floor(log2 |value|) + {{ t.k }}, taken in a width that cannot wrap.
  wire [{{ t.fw_msb }}:0] flb_w  = {{ "{" }}{{ t.fw_pad_x }}'d0, exp1_q} + {{ t.fw }}'d{{ t.nw_msb }} - {{ "{" }}{{ t.fw_pad_lz }}'d0, lz1_q};
  // The binade, then the rounding distance, each a stage.
  reg  [{{ t.nw_msb }}:0] normb_q;
  reg  [{{ t.fw_msb }}:0] flbb_q;
  reg         negb_q, zerob_q;
  always @(posedge clk_i) {negb_q, zerob_q, flbb_q, normb_q} <= {neg1_q, zero1_q, flb_w, norm_w};
  wire        normal_w = flbb_q >= {{ t.fw }}'d{{ t.normal_min }};
  wire [{{ t.fw_msb }}:0] gap_w  = {{ t.fw }}'d{{ t.normal_min }} - flbb_q;
{%- else %}
  wire [{{ t.nw_msb }}:0] norm_w = pad_w << lz_w;
  // flb = floor(log2 |value|) + {{ t.k }}, taken in a width that cannot wrap.
  wire [{{ t.fw_msb }}:0] flb_w  = {{ "{" }}{{ t.fw_pad_x }}'d0, exp_i} + {{ t.fw }}'d{{ t.nw_msb }} - {{ "{" }}{{ t.fw_pad_lz }}'d0, lz_w};
  wire        normal_w = flb_w >= {{ t.fw }}'d{{ t.normal_min }};
  wire [{{ t.fw_msb }}:0] gap_w  = {{ t.fw }}'d{{ t.normal_min }} - flb_w;
{%- endif %}
  // Keep 24 significant bits (fewer below the normal range), then round.
  wire [{{ t.rw_msb }}:0] shift_w = normal_w ? {{ t.rw }}'d{{ t.base_shift }}
                     : (gap_w > {{ t.fw }}'d{{ t.max_gap }}) ? {{ t.rw }}'d{{ t.nw_plus1 }}
                     : gap_w[{{ t.rw_msb }}:0] + {{ t.rw }}'d{{ t.base_shift }};
{%- if pipe %}
  wire [{{ t.fw_msb }}:0] bin_w  = flbb_q - {{ t.fw }}'d{{ t.bin_off }};
  reg  [{{ t.nw_msb }}:0] norm2_q;
  reg  [{{ t.rw_msb }}:0] shift2_q;
  reg  [{{ t.fw_msb }}:0] bin2_q;
  reg         neg2_q, zero2_q, normal2_q;
  always @(posedge clk_i) {neg2_q, zero2_q, normal2_q, bin2_q, shift2_q, norm2_q} <= {negb_q, zerob_q, normal_w, bin_w, shift_w, normb_q};
  wire [{{ t.nw }}:0] ext_w  = {norm2_q, 1'b0};
  wire [{{ t.nw }}:0] sh_w   = ext_w >> shift2_q;
  wire [{{ t.nw }}:0] lost_w = ext_w & ~({{ "{" }}{{ t.nw_plus1 }}{1'b1}} << shift2_q);
{%- else %}
  wire [{{ t.fw_msb }}:0] bin_w  = flb_w - {{ t.fw }}'d{{ t.bin_off }};
  wire [{{ t.nw }}:0] ext_w  = {norm_w, 1'b0};
  wire [{{ t.nw }}:0] sh_w   = ext_w >> shift_w;
  wire [{{ t.nw }}:0] lost_w = ext_w & ~({{ "{" }}{{ t.nw_plus1 }}{1'b1}} << shift_w);
{%- endif %}
  wire        up_w   = sh_w[0] & ((|lost_w) | sh_w[1]);
{%- if pipe %}
  reg  [25:0] sh3_q;
  reg  [{{ t.fw_msb }}:0] bin3_q;
  reg         neg3_q, zero3_q, normal3_q, up3_q;
  always @(posedge clk_i) {neg3_q, zero3_q, normal3_q, up3_q, bin3_q, sh3_q} <= {neg2_q, zero2_q, normal2_q, up_w, bin2_q, sh_w[26:1]};
  wire [25:0] n_w    = sh3_q + {25'd0, up3_q};
  wire [{{ t.cw_msb }}:0] code_w = (normal3_q ? {bin3_q, 23'd0} : {{ t.cw }}'d0) + {{ "{" }}{{ t.cw_pad_n }}'d0, n_w};
  wire        inf_w  = normal3_q && (code_w >= {{ t.cw }}'h7f800000);
  assign f32_o = zero3_q ? 32'd0 : inf_w ? {neg3_q, 31'h7f800000} : {neg3_q, code_w[30:0]};
{%- else %}
  wire [25:0] n_w    = sh_w[26:1] + {25'd0, up_w};
  // code = (binade - 1) << 23 + n: a rounding carry moves into the next binade by itself.
  wire [{{ t.cw_msb }}:0] code_w = (normal_w ? {bin_w, 23'd0} : {{ t.cw }}'d0) + {{ "{" }}{{ t.cw_pad_n }}'d0, n_w};
  wire        inf_w  = normal_w && (code_w >= {{ t.cw }}'h7f800000);
  assign f32_o = zero_w ? 32'd0 : inf_w ? {neg_i, 31'h7f800000} : {neg_i, code_w[30:0]};
{%- endif %}
{%- if t.has_unused %}
  wire unused_w = {{ t.unused_expr }};
{%- endif %}

endmodule

`default_nettype wire
