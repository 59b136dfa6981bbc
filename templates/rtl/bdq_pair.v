{{ banner }}
`default_nettype none

// Two-stage selector, stage 1 and the pair's constants, from formatbook {{ s.book }}:
// t = floor(block max in half-units) picks the pair whose maximum is the smallest at or above t
// (the largest pair maximum if none is). For each member: its id and its beneficial range (the
// magnitudes that round to its unique value on the pair's combined grid) as [lo, hi) on 4M.
module {{ name }} (
  input  wire [3:0]  t_i,
  output reg  [{{ s.q_msb }}:0] lo0_o,
  output reg  [{{ s.q_msb }}:0] hi0_o,
  output reg  [{{ s.id_msb }}:0] id0_o,
  output reg  [{{ s.q_msb }}:0] lo1_o,
  output reg  [{{ s.q_msb }}:0] hi1_o,
  output reg  [{{ s.id_msb }}:0] id1_o
);

  reg  [{{ s.pair_msb }}:0] pair_w;
  always @* begin
    case (t_i)
{%- for e in s.pair_rom %}
      4'd{{ e.t }}: pair_w = {{ s.pair_w }}'d{{ e.p }};
{%- endfor %}
      default: pair_w = {{ s.pair_w }}'d0;
    endcase
  end

  always @* begin
    case (pair_w)
{%- for p in s.pairs %}
      {{ s.pair_w }}'d{{ p.index }}: begin
        lo0_o = {{ s.q_w }}'d{{ p.lo0 }}; hi0_o = {{ s.q_w }}'d{{ p.hi0 }}; id0_o = {{ s.id_w }}'d{{ p.id0 }};
        lo1_o = {{ s.q_w }}'d{{ p.lo1 }}; hi1_o = {{ s.q_w }}'d{{ p.hi1 }}; id1_o = {{ s.id_w }}'d{{ p.id1 }};
      end
{%- endfor %}
      default: begin
        lo0_o = {{ s.q_w }}'d0; hi0_o = {{ s.q_w }}'d0; id0_o = {{ s.id_w }}'d0;
        lo1_o = {{ s.q_w }}'d0; hi1_o = {{ s.q_w }}'d0; id1_o = {{ s.id_w }}'d0;
      end
    endcase
  end

endmodule

`default_nettype wire
