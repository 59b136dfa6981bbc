{{ banner }}
// Property wrapper of `blockrtl prove`: the unit's ports are the free inputs of the proof, and
// one property is asserted ({{ property }}). Yosys reads it with `read_verilog -formal`.
`default_nettype none

module {{ name }} (
  input wire clk_i,
  input wire rst_ni,
  input wire valid_i,
  input wire ready_i{% for p in inputs %},
  input wire {{ p.range }} {{ p.name }}{% endfor %}
);
  wire ready_o;
  wire valid_o;
{% for p in outputs %}  wire {{ p.range }} {{ p.name }};
{% endfor %}
  {{ dut }} u_dut (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .valid_i(valid_i),
    .ready_o(ready_o),
    .valid_o(valid_o),
    .ready_i(ready_i){% for p in inputs %},
    .{{ p.name }}({{ p.name }}){% endfor %}{% for p in outputs %},
    .{{ p.name }}({{ p.name }}){% endfor %}
  );

  // Every output data bit, for the stability and miter checks.
  wire [{{ out_width - 1 }}:0] out_w = {{ out_concat }};
  wire in_w  = valid_i & ready_o;
  wire out_t = valid_o & ready_i;

  // The proof starts in reset; resets may come again at any cycle.
  reg init_q = 1'b1;
  always @(posedge clk_i) init_q <= 1'b0;
  always @* if (init_q) assume(!rst_ni);

  // The source keeps the rules the unit's output is held to: a presented beat stays, unchanged,
  // until it is taken (a unit at pipeline 0 passes the source's handshake straight on).
  reg src_wait_q = 1'b0;
  reg [{{ in_width - 1 }}:0] src_q;
  always @(posedge clk_i) begin
    src_wait_q <= ~init_q & rst_ni & valid_i & ~ready_o;
    src_q      <= {{ in_concat }};
  end
  always @* if (src_wait_q) assume(valid_i && {{ in_concat }} == src_q);

  // Beats within a block and blocks, on both sides (indices wrap: see `watch_w`).
  reg [{{ beat_bits - 1 }}:0] in_beat_q, out_beat_q;
  reg [{{ block_bits - 1 }}:0] in_blk_q, out_blk_q;
  wire in_first_w = in_w & (in_beat_q == {{ beat_bits }}'d0);
  wire in_last_w  = in_w & (in_beat_q == {{ beat_bits }}'d{{ in_beats - 1 }});
  wire out_last_w = out_t & (out_beat_q == {{ beat_bits }}'d{{ out_beats - 1 }});
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      in_beat_q  <= {{ beat_bits }}'d0;
      out_beat_q <= {{ beat_bits }}'d0;
      in_blk_q   <= {{ block_bits }}'d0;
      out_blk_q  <= {{ block_bits }}'d0;
    end else begin
      if (in_w) in_beat_q <= in_last_w ? {{ beat_bits }}'d0 : in_beat_q + {{ beat_bits }}'d1;
      if (out_t) out_beat_q <= out_last_w ? {{ beat_bits }}'d0 : out_beat_q + {{ beat_bits }}'d1;
      if (in_last_w) in_blk_q <= in_blk_q + {{ block_bits }}'d1;
      if (out_last_w) out_blk_q <= out_blk_q + {{ block_bits }}'d1;
    end
  end
  // One block the proof follows, any block: its index modulo 2^{{ block_bits }}, more than the unit
  // can hold, so no two blocks in flight share it.
  (* anyconst *) wire [{{ block_bits - 1 }}:0] watch_w;
  wire in_watch_w  = in_w & (in_blk_q == watch_w);
  wire out_watch_w = out_t & (out_blk_q == watch_w);
{% if property == "reset" %}
  // Nothing is valid in the cycle after a reset but what a unit at pipeline 0 passes on from
  // its input in that cycle.
  reg rst_q;
  always @(posedge clk_i) rst_q <= ~rst_ni;
  always @* if (!init_q && rst_q && !valid_i) assert(!valid_o);
{% endif %}{% if property == "valid-held" || property == "stable" %}
  // A stalled output: what the cycle before a stall offered.
  reg stall_q = 1'b0;
  reg [{{ out_width - 1 }}:0] held_q;
  always @(posedge clk_i) begin
    stall_q <= ~init_q & rst_ni & valid_o & ~ready_i;
    held_q  <= out_w;
  end
{% endif %}{% if property == "valid-held" %}
  always @* if (stall_q) assert(valid_o);
{% endif %}{% if property == "stable" %}
  always @* if (stall_q) assert(out_w == held_q);
{% endif %}{% if property == "count" %}
  // Blocks begun (a first beat in) and not delivered whole, and blocks whole in and not out.
  reg [{{ count_bits - 1 }}:0] begun_q, whole_q;
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      begun_q <= {{ count_bits }}'d0;
      whole_q <= {{ count_bits }}'d0;
    end else begin
      begun_q <= begun_q + in_first_w - out_last_w;
      whole_q <= whole_q + in_last_w - out_last_w;
    end
  end
  always @* if (!init_q) begin
    // Nothing delivered that did not come in whole (no duplicate, nothing from nowhere) ...
    if (rst_ni && out_last_w) assert(whole_q != {{ count_bits }}'d0 || in_last_w);
    // ... and nothing held past the capacity (a dropped block would stay counted).
    assert(begun_q <= {{ count_bits }}'d{{ capacity }});
  end
{% endif %}{% if property == "nan-scale" %}
  // NaN or infinity in the followed block (all its beats), then its scale and flag.
  wire special_w = {{ special_expr }};
  reg  spec_q;
  always @(posedge clk_i) if (in_watch_w) spec_q <= in_first_w ? special_w : spec_q | special_w;
  wire spec_w = in_watch_w ? (in_first_w ? special_w : spec_q | special_w) : spec_q;
  always @* if (!init_q && rst_ni && out_watch_w) begin
    assert(nan_o == spec_w);
    assert(({{ scale_port }} == {{ scale_nan }}) == spec_w);
  end
{% endif %}{% if property == "codes" %}
  // Codes the format never produces.
  always @* if (!init_q && rst_ni && out_t) assert(!({{ invalid_expr }}));
{% endif %}{% if let Some(t) = table %}{% if property == "table" %}
  // The followed block's input, then each of its output lanes against the golden model's
  // value for the block's shared input and the lane's own (every input is free: exhaustive).
{% for p in inputs %}  reg  {{ p.range }} cap_{{ p.name }}_q;
  always @(posedge clk_i) if (in_watch_w) cap_{{ p.name }}_q <= {{ p.name }};
  wire {{ p.range }} cap_{{ p.name }}_w = in_watch_w ? {{ p.name }} : cap_{{ p.name }}_q;
{% endfor %}
  function [{{ t.out_bits - 1 }}:0] lane_value;
    input [{{ t.in_bits - 1 }}:0] idx;
    begin
      case (idx)
{{ t.cases }}
      default: lane_value = {{ t.out_bits }}'d0;
      endcase
    end
  endfunction
  always @* if (!init_q && rst_ni && out_watch_w) begin
{% for (out, lane_in) in t.lanes %}    assert({{ out }} == lane_value({cap_{{ t.shared }}_w, cap_{{ lane_in }}}));
{% endfor %}  end
{% endif %}{% endif %}{% if property == "pipeline" %}
  // The same unit at pipeline 0, fed every beat the unit takes, as it takes it, with its
  // output never stalled; the n-th beat out of both must be the same, for any n.
  wire ref_ready_o;
  wire ref_valid_o;
{% for p in outputs %}  wire {{ p.range }} ref_{{ p.name }};
{% endfor %}
  {{ reference }} u_ref (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .valid_i(in_w),
    .ready_o(ref_ready_o),
    .valid_o(ref_valid_o),
    .ready_i(1'b1){% for p in inputs %},
    .{{ p.name }}({{ p.name }}){% endfor %}{% for p in outputs %},
    .{{ p.name }}(ref_{{ p.name }}){% endfor %}
  );
  wire [{{ out_width - 1 }}:0] ref_out_w = {{ ref_concat }};
  (* anyconst *) wire [{{ beat_count_bits - 1 }}:0] nth_w;
  reg [{{ beat_count_bits - 1 }}:0] a_n_q, b_n_q;
  reg b_got_q;
  reg [{{ out_width - 1 }}:0] b_q;
  wire b_now_w = ref_valid_o & (b_n_q == nth_w);
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      a_n_q   <= {{ beat_count_bits }}'d0;
      b_n_q   <= {{ beat_count_bits }}'d0;
      b_got_q <= 1'b0;
    end else begin
      if (out_t) a_n_q <= a_n_q + {{ beat_count_bits }}'d1;
      if (ref_valid_o) b_n_q <= b_n_q + {{ beat_count_bits }}'d1;
      if (b_now_w) begin
        b_got_q <= 1'b1;
        b_q     <= ref_out_w;
      end
    end
  end
  always @* if (!init_q && rst_ni) begin
    // The reference keeps pace with the unit ...
    if (in_w) assert(ref_ready_o);
    // ... and delivered the n-th beat first, the same as the unit's.
    if (out_t && a_n_q == nth_w) begin
      assert(b_got_q | b_now_w);
      assert(out_w == (b_now_w ? ref_out_w : b_q));
    end
  end
{% endif %}
endmodule

`default_nettype wire
