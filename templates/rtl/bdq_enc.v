{{ banner }}
`default_nettype none

// One lane of element encoding into the block's dialect: the index is the number of midpoints
// at or below the magnitude (ties go to the larger value, and the top value saturates).
// thr_i holds the dialect's 7 midpoints as 4M thresholds: (v_j + v_j+1) << F, ascending.
module {{ name }} (
  input  wire        sign_i,
  input  wire [{{ n.m_msb }}:0] m_i,
  input  wire [{{ n.thr_bus_msb }}:0] thr_i,
  input  wire        zero_i,
  output wire [3:0]  code_o
);

  wire [{{ n.q_msb }}:0] q_w = {m_i, 2'b00};
{%- for j in n.thr_index %}
  wire        ge{{ j.j }}_w = q_w >= thr_i[{{ j.hi }}:{{ j.lo }}];
{%- endfor %}
  wire [2:0]  idx_w = {{ n.idx_sum }};
  assign code_o = zero_i ? 4'd0 : {sign_i, idx_w};

endmodule

`default_nettype wire
