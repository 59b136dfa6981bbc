{%- import "rtl/floor.inc" as floor -%}
{{ banner }}
`default_nettype none

// (-1)^neg * mag * 2^(exp_i - {{ t.xb }}) rounded to FP32: nearest, ties to even, subnormals
// kept, overflow to infinity. A zero magnitude gives +0.
{%- if pipe %}
// Pipelined: registers after each of the four steps below, so f32_o is the value of the
// inputs of {{ pipe_latency }} cycles before. The registers load every cycle (no stall, no reset): the
// caller keeps its valid bits beside them.
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

  // 1. The leading zeros.
  wire [{{ t.nw_msb }}:0] pad_w  = {{ t.pad_expr }};
  wire [{{ t.lz_msb }}:0] lz_w   = lead_zeros(pad_w);
  wire        zero_w = ~|mag_i;
{%- call floor::pipe_cut(pipe, 1, "neg1", "neg_i") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "zero1", "zero_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, t.xw_msb + 1, "exp1", "exp_i") %}{% endcall %}
{%- call floor::pipe_cut(pipe, t.lz_w, "lz1", "lz_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, t.nw, "pad1", "pad_w") %}{% endcall %}
  // 2. The normalisation; flb = floor(log2 |value|) + {{ t.k }}, in a width that cannot wrap.
  wire [{{ t.nw_msb }}:0] norm_w = pad1_w << lz1_w;
  wire [{{ t.fw_msb }}:0] flb_w  = {{ "{" }}{{ t.fw_pad_x }}'d0, exp1_w} + {{ t.fw }}'d{{ t.nw_msb }} - {{ "{" }}{{ t.fw_pad_lz }}'d0, lz1_w};
{%- call floor::pipe_cut(pipe, 1, "neg2", "neg1_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "zero2", "zero1_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, t.fw, "flb2", "flb_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, t.nw, "norm2", "norm_w") %}{% endcall %}
  // 3. The rounding distance: keep 24 significant bits (fewer below the normal range). The
  // code's high part is the binade + 1 (the hidden bit's), or 0 below the normal range.
  // Below the normal range the shift grows by the gap normal_min - flb, so it is one
  // subtraction from flb; past {{ t.max_gap }} of gap everything is shifted out.
  wire        normal_w = flb2_w >= {{ t.fw }}'d{{ t.normal_min }};
  wire        tiny_w = {{ t.tiny_expr }};
  wire [{{ t.rw_msb }}:0] sdist_w = {{ t.rw }}'d{{ t.sdist_off }} - flb2_w[{{ t.rw_msb }}:0];
  wire [{{ t.rw_msb }}:0] shift_w = normal_w ? {{ t.rw }}'d{{ t.base_shift }}
                     : tiny_w ? {{ t.rw }}'d{{ t.nw_plus1 }}
                     : sdist_w;
  wire [{{ t.fw_msb }}:0] hi_w   = normal_w ? flb2_w - {{ t.fw }}'d{{ t.hi_off }} : {{ t.fw }}'d0;
{%- call floor::pipe_cut(pipe, 1, "neg3", "neg2_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "zero3", "zero2_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, t.fw, "hi3", "hi_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, t.rw, "shift3", "shift_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, t.nw, "norm3", "norm2_w") %}{% endcall %}
  // 4. The rounding decision. The result is infinite when the high part already is, or when
  // rounding up carries a full significand into it.
  wire [{{ t.nw }}:0] ext_w  = {norm3_w, 1'b0};
  wire [{{ t.nw }}:0] sh_w   = ext_w >> shift3_w;
  wire [{{ t.nw }}:0] lost_w = ext_w & ~({{ "{" }}{{ t.nw_plus1 }}{1'b1}} << shift3_w);
  wire        up_w   = sh_w[0] & ((|lost_w) | sh_w[1]);
  wire        inf_w  = (hi3_w >= {{ t.fw }}'d255) | ((hi3_w == {{ t.fw }}'d254) & (&sh_w[23:1]) & up_w);
{%- call floor::pipe_cut(pipe, 1, "neg4", "neg3_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "zero4", "zero3_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "inf4", "inf_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 1, "up4", "up_w") %}{% endcall %}
{%- call floor::pipe_cut(pipe, 31, "code4", "{hi3_w[7:0], sh_w[23:1]}") %}{% endcall %}
  // A rounding carry moves into the next binade by itself.
  wire [30:0] code_w = code4_w + {30'd0, up4_w};
  assign f32_o = zero4_w ? 32'd0 : inf4_w ? {neg4_w, 31'h7f800000} : {neg4_w, code_w};
  wire unused_w = |sh_w[{{ t.nw }}:24];

endmodule

`default_nettype wire
