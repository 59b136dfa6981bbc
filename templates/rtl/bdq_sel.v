{{ banner }}
`default_nettype none

{%- if s.two_stage %}

// Two-stage dialect selector (online activations), from formatbook {{ s.book }}:
//   stage 1: t = floor(2 * max M / 2^F) (the block max in half-units) picks the pair whose
//            maximum is the smallest at or above t (the largest pair maximum if none is);
//   stage 2: count the elements in each member's beneficial range (the magnitudes that round to
//            its unique value on the pair's combined grid); more wins, ties to the even member.
{%- else %}

// MSE dialect selector (offline weights), from formatbook {{ s.book }}: for every dialect, the
// block's sum of squared errors (2M - v * 2^F)^2 of its rounded magnitudes; the least wins,
// ties to the lower id.
{%- endif %}
module {{ name }} (
  input  wire [{{ s.bus_msb }}:0] m_i,
  output wire [{{ s.id_msb }}:0] dialect_o
);
{%- if s.two_stage %}

  // Stage 1: the pair of the block maximum.
  wire [3:0]  t_w = {{ s.max_root }}_m_w[{{ s.t_hi }}:{{ s.t_lo }}];
{%- if s.t_lo > 0 %}
  wire unused_w = |{{ s.max_root }}_m_w[{{ s.t_lo_msb }}:0];
{%- endif %}
  reg  [{{ s.pair_msb }}:0] pair_w;
  always @* begin
    case (t_w)
{%- for e in s.pair_rom %}
      4'd{{ e.t }}: pair_w = {{ s.pair_w }}'d{{ e.p }};
{%- endfor %}
      default: pair_w = {{ s.pair_w }}'d0;
    endcase
  end
  // The pair's members and their beneficial ranges, as [lo, hi) thresholds on 4M.
  reg  [{{ s.q_msb }}:0] lo0_w, hi0_w, lo1_w, hi1_w;
  reg  [{{ s.id_msb }}:0] id0_w, id1_w;
  always @* begin
    case (pair_w)
{%- for p in s.pairs %}
      {{ s.pair_w }}'d{{ p.index }}: begin
        lo0_w = {{ s.q_w }}'d{{ p.lo0 }}; hi0_w = {{ s.q_w }}'d{{ p.hi0 }}; id0_w = {{ s.id_w }}'d{{ p.id0 }};
        lo1_w = {{ s.q_w }}'d{{ p.lo1 }}; hi1_w = {{ s.q_w }}'d{{ p.hi1 }}; id1_w = {{ s.id_w }}'d{{ p.id1 }};
      end
{%- endfor %}
      default: begin
        lo0_w = {{ s.q_w }}'d0; hi0_w = {{ s.q_w }}'d0; id0_w = {{ s.id_w }}'d0;
        lo1_w = {{ s.q_w }}'d0; hi1_w = {{ s.q_w }}'d0; id1_w = {{ s.id_w }}'d0;
      end
    endcase
  end

  genvar i;
  generate
    for (i = 0; i < {{ s.lanes }}; i = i + 1) begin : g_lane
      wire [{{ s.m_msb }}:0] leaf_m_w = m_i[i*{{ s.mw }} +: {{ s.mw }}];
      wire [{{ s.q_msb }}:0] q_w = {leaf_m_w, 2'b00};
      wire [0:0]  leaf_c0_w = (q_w >= lo0_w) & (q_w < hi0_w);
      wire [0:0]  leaf_c1_w = (q_w >= lo1_w) & (q_w < hi1_w);
    end
  endgenerate

  // Block maximum of M.
{%- for nd in s.max_tree %}
  wire [{{ s.m_msb }}:0] {{ nd.name }}_m_w = ({{ nd.a }}_m_w > {{ nd.b }}_m_w) ? {{ nd.a }}_m_w : {{ nd.b }}_m_w;
{%- endfor %}

  // Stage 2: how many elements fall in each member's range.
{%- for nd in s.count_tree %}
  wire [{{ nd.msb }}:0] {{ nd.name }}_c0_w = {1'b0, {{ nd.a }}_c0_w} + {1'b0, {{ nd.b }}_c0_w};
  wire [{{ nd.msb }}:0] {{ nd.name }}_c1_w = {1'b0, {{ nd.a }}_c1_w} + {1'b0, {{ nd.b }}_c1_w};
{%- endfor %}
  assign dialect_o = ({{ s.count_root }}_c1_w > {{ s.count_root }}_c0_w) ? id1_w : id0_w;
{%- else %}

  // Squared error of each magnitude code in each dialect, in units of 2^-(2F+2).
{%- for d in s.dialects %}
  function [{{ s.e_msb }}:0] sqerr{{ d.id }};
    input [{{ s.m_msb }}:0] m;
    begin
      case (m)
{%- for e in d.table %}
        {{ s.mw }}'d{{ e.m }}: sqerr{{ d.id }} = {{ s.e_w }}'d{{ e.err }};
{%- endfor %}
        default: sqerr{{ d.id }} = {{ s.e_w }}'d0;
      endcase
    end
  endfunction
{%- endfor %}

  genvar i;
  generate
    for (i = 0; i < {{ s.lanes }}; i = i + 1) begin : g_lane
      wire [{{ s.m_msb }}:0] m_w = m_i[i*{{ s.mw }} +: {{ s.mw }}];
{%- for d in s.dialects %}
      wire [{{ s.e_msb }}:0] leaf_e{{ d.id }}_w = sqerr{{ d.id }}(m_w);
{%- endfor %}
    end
  endgenerate

  // Per dialect, the block's total error: an adder tree over the lanes.
{%- for d in s.dialects %}
{%- for nd in s.sum_tree %}
  wire [{{ nd.msb }}:0] {{ nd.name }}_e{{ d.id }}_w = {1'b0, {{ nd.a }}_e{{ d.id }}_w} + {1'b0, {{ nd.b }}_e{{ d.id }}_w};
{%- endfor %}
  wire [{{ s.total_msb }}:0] tot{{ d.id }}_s_w = {{ s.sum_root }}_e{{ d.id }}_w;
  wire [{{ s.id_msb }}:0] tot{{ d.id }}_i_w = {{ s.id_w }}'d{{ d.id }};
{%- endfor %}

  // The least total; on a tie the lower id (the left operand) stays.
{%- for nd in s.argmin_tree %}
  wire        {{ nd.name }}_lt_w = {{ nd.b }}_s_w < {{ nd.a }}_s_w;
  wire [{{ s.total_msb }}:0] {{ nd.name }}_s_w = {{ nd.name }}_lt_w ? {{ nd.b }}_s_w : {{ nd.a }}_s_w;
  wire [{{ s.id_msb }}:0] {{ nd.name }}_i_w = {{ nd.name }}_lt_w ? {{ nd.b }}_i_w : {{ nd.a }}_i_w;
{%- endfor %}
  assign dialect_o = {{ s.argmin_root }}_i_w;
{%- if s.argmin_single %}
  wire unused_w = |tot0_s_w;
{%- else %}
  wire unused_w = |{{ s.argmin_root }}_s_w;
{%- endif %}
{%- endif %}

endmodule

`default_nettype wire
