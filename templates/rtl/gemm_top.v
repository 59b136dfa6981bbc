{{ banner }}
`default_nettype none

// A linear layer Y = X W^T on a tile of {{ rows }} x {{ cols }} dot units.
//   x_i        activation elements, a row of K after another; rows are taken in groups of
//              {{ rows }} (pad the last group): the quantizer makes blocks, which fill one of two banks
{%- if tscale %}
//   x_tensor_scale_i  the activations' FP32 tensor scale s_t,X, taken with each block; hold
//              it for a layer: results leave both tensor scales to the user (y * s_t,X * s_t,W)
{%- endif %}
//   w_*_i      weight write port: w_data_i goes to word w_addr_i of column w_col_i's memory
//              while w_we_i is high (the memories also start with the generator's weights)
//   y_o        {{ cols }} results of one output row a beat: y[m][g*{{ cols }} + j] in lane j, beats
//              g = 0..{{ groups - 1 }} then the next row of the group; last_o on the row's last beat
// Per row group: for every block index b, for every group g of {{ cols }} weight rows, all
// {{ rows }} x {{ cols }} positions take one block pair; a partial sum comes back every {{ slots }} cycles, so
// the pipelined adder never waits. Inside, nothing stalls: a group starts only when its
// activations are in and its result bank is free.
module {{ name }} (
{{ port_decls }}
);

  // ---- ingest: quantize activation blocks into the bank being filled ----
{%- for w in quant_wires %}
  {{ w }}
{%- endfor %}
  // The quantizer never stalls: a stall would load-enable every one of its registers from
  // one net, the tile's slowest path. Its beats go into a FIFO of {{ qf_depth }} words (LUT RAM, read
  // without a register, so no wide register waits on the ingest's decision), and x is taken
  // only while it has a place for every beat in flight: those taken (qf_in_q counts them) and
  // not yet gone from it (qf_out_q). The test is on counts a cycle old, and the count of those
  // gone two cycles old (the ingest and the banks may be placed far apart), so it keeps two
  // places more than it needs.
  wire        qp_valid_w, qp_ready_w, q_valid_w, q_ready_w;
  reg         qf_room_q;
  assign ready_o = qf_room_q & qp_ready_w;
  {{ quant_name }} u_quant (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
    .valid_i(valid_i & qf_room_q),
    .ready_o(qp_ready_w),
    .valid_o(qp_valid_w),
    .ready_i(1'b1),
    {{ quant_conns }}
  );
  reg  [1:0]  afull_q;
  reg         wbank_q;
  reg  [{{ qf_width - 1 }}:0] qf_mem_q [0:{{ qf_depth - 1 }}];
  reg  [{{ qf_pb }}:0] qf_wp_q, qf_rp_q, qf_in_q, qf_out_q, qf_gone_q;
  wire        x_fire_w = valid_i & ready_o;
  assign q_valid_w = qf_wp_q != qf_rp_q;
  assign q_ready_w = ~afull_q[wbank_q];
  wire        q_fire_w = q_valid_w & q_ready_w;
  wire [{{ qf_width - 1 }}:0] qf_head_w = qf_mem_q[qf_rp_q[{{ qf_pb - 1 }}:0]];
  wire [{{ qf_pb }}:0] qf_cnt_w = qf_in_q - qf_gone_q;
  always @(posedge clk_i) begin
    if (qp_valid_w) qf_mem_q[qf_wp_q[{{ qf_pb - 1 }}:0]] <= {{ qf_pack }};
  end
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      qf_wp_q   <= {{ qf_pb + 1 }}'d0;
      qf_rp_q   <= {{ qf_pb + 1 }}'d0;
      qf_in_q   <= {{ qf_pb + 1 }}'d0;
      qf_out_q  <= {{ qf_pb + 1 }}'d0;
      qf_gone_q <= {{ qf_pb + 1 }}'d0;
      qf_room_q <= 1'b0;
    end else begin
      if (qp_valid_w) qf_wp_q <= qf_wp_q + {{ qf_pb + 1 }}'d1;
      if (q_fire_w) qf_rp_q <= qf_rp_q + {{ qf_pb + 1 }}'d1;
      if (x_fire_w) qf_in_q <= qf_in_q + {{ qf_pb + 1 }}'d1;
      if (q_fire_w) qf_out_q <= qf_out_q + {{ qf_pb + 1 }}'d1;
      qf_gone_q <= qf_out_q;
      qf_room_q <= qf_cnt_w <= {{ qf_pb + 1 }}'d{{ qf_depth - 2 }};
    end
  end
{%- for a in qf_unpack %}
  {{ a }}
{%- endfor %}
  wire        unused_q_w = q_nan_w;
  reg  [{{ rb - 1 }}:0] r_in_q;
  reg  [{{ bb - 1 }}:0] b_in_q;
  wire        q_blk_w  = q_fire_w & q_last_w;
  wire        r_in_last_w = r_in_q == {{ rb }}'d{{ rows - 1 }};
  wire        b_in_last_w = b_in_q == {{ bb }}'d{{ blocks - 1 }};
  wire        q_grp_w  = q_blk_w & r_in_last_w & b_in_last_w;
{%- if beats > 1 %}
  // Beats of a block before its last, element 0 lowest.
  reg  [{{ acodes_w - 1 }}:0] acodes_q;
  always @(posedge clk_i) begin
    if (q_fire_w) acodes_q <= {{ acodes_shift }};
  end
{%- endif %}
  wire [{{ aw - 1 }}:0] a_wdata_w = {{ act_word }};
  wire [{{ ab - 1 }}:0] a_waddr_w = wbank_q ? {{ ab }}'d{{ blocks }} + {{ b_in_x }} : {{ b_in_x }};
  // The activation memories' write port is registered (its enable reaches every row's block
  // RAMs across the chip); the bank's full flag waits with it, so the sequencer sees a bank
  // full when its last block is written, as without the register.
  reg  [{{ ab - 1 }}:0] a_waddr_q;
  reg  [{{ aw - 1 }}:0] a_wdata_q;
  reg  [{{ rows - 1 }}:0] a_we_q;
  reg         q_grp_q;
  always @(posedge clk_i) begin
    a_waddr_q <= a_waddr_w;
    a_wdata_q <= a_wdata_w;
  end
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      a_we_q  <= {{ rows }}'d0;
      q_grp_q <= 1'b0;
    end else begin
      a_we_q  <= {{ a_we_rows }};
      q_grp_q <= q_grp_w;
    end
  end

  // ---- sequencer: slots (b, g) of the bank being computed ----
  reg         busy_q, cbank_q;
  reg  [{{ bb - 1 }}:0] b_q;
  reg  [{{ gb - 1 }}:0] g_q;
  // A result bank is claimed when its group starts and freed when it has been sent.
  reg  [1:0]  oclaim_q, oready_q;
  wire        start_w   = ~busy_q & afull_q[cbank_q] & ~oclaim_q[cbank_q];
  wire        g_last_w  = g_q == {{ gb }}'d{{ slots - 1 }};
  wire        b_last_w  = b_q == {{ bb }}'d{{ blocks - 1 }};
  wire        seq_end_w = busy_q & g_last_w & b_last_w;
  wire        slot_v_w  = {{ slot_v }};
  wire [{{ ab - 1 }}:0] a_raddr_w = cbank_q ? {{ ab }}'d{{ blocks }} + {{ b_x }} : {{ b_x }};
  wire [{{ wab - 1 }}:0] w_raddr_w = slot_v_w ? {{ w_word }} : {{ wab }}'d0;
  // The read addresses are registered here (their sums and many loads), and again inside the
  // memories, so a bank is read two cycles after its last slot: it is freed for writing two
  // cycles later too.
  reg  [{{ ab - 1 }}:0] a_raddr_q;
  reg  [{{ wab - 1 }}:0] w_raddr_q;
  reg  [1:0]  seq_end_q;
  always @(posedge clk_i) begin
    a_raddr_q <= a_raddr_w;
    w_raddr_q <= w_raddr_w;
  end
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      busy_q  <= 1'b0;
      cbank_q <= 1'b0;
      b_q     <= {{ bb }}'d0;
      g_q     <= {{ gb }}'d0;
      afull_q <= 2'b00;
      wbank_q <= 1'b0;
      r_in_q  <= {{ rb }}'d0;
      b_in_q  <= {{ bb }}'d0;
      seq_end_q <= 2'b00;
    end else begin
      seq_end_q <= {seq_end_q[0], seq_end_w};
      if (start_w) begin
        busy_q <= 1'b1;
        b_q    <= {{ bb }}'d0;
        g_q    <= {{ gb }}'d0;
      end else if (busy_q) begin
        g_q <= g_last_w ? {{ gb }}'d0 : g_q + {{ gb }}'d1;
        if (g_last_w) b_q <= b_last_w ? {{ bb }}'d0 : b_q + {{ bb }}'d1;
        if (seq_end_w) begin
          busy_q  <= 1'b0;
          cbank_q <= ~cbank_q;
        end
      end
      if (q_blk_w) begin
        b_in_q <= b_in_last_w ? {{ bb }}'d0 : b_in_q + {{ bb }}'d1;
        if (b_in_last_w) r_in_q <= r_in_last_w ? {{ rb }}'d0 : r_in_q + {{ rb }}'d1;
      end
      if (q_grp_w) wbank_q <= ~wbank_q;
      // A bank fills on its group's last block and empties two cycles after its last slot is
      // issued (cbank_q has turned by then, and cannot turn again so soon).
      afull_q <= (afull_q | ({1'b0, q_grp_q} << ~wbank_q)) & ~({1'b0, seq_end_q[1]} << ~cbank_q);
    end
  end

  // ---- control beside the data: {bank, last b, first b, g} per stage ----
  // Stage 1: the read addresses; 2-3: the memories' read; 4: a register on their data; {{ at_pread }}: partial-sum read; {{ at_add }}: FP32 terms and adder operands;
  // {{ depth }}: sums (write back, or a result on the last b).
  wire [{{ cw - 1 }}:0] ctl0_w = {cbank_q, b_last_w, b_q == {{ bb }}'d0, g_q};
  reg  [{{ depth }}:1] cv_q;
  reg  [{{ depth * cw - 1 }}:0] cd_q;
  always @(posedge clk_i) begin
    if (!rst_ni) cv_q <= {{ depth }}'d0;
    else cv_q <= {cv_q[{{ depth - 1 }}:1], slot_v_w};
    cd_q <= {cd_q[{{ (depth - 1) * cw - 1 }}:0], ctl0_w};
  end
  wire [{{ gb - 1 }}:0] g_pread_w = cd_q[{{ (at_pread - 1) * cw }} +: {{ gb }}];
  wire        first_add_w = cd_q[{{ (at_add - 1) * cw + gb }}];
  wire [{{ cw - 1 }}:0] ctl_end_w = cd_q[{{ (depth - 1) * cw }} +: {{ cw }}];
  wire [{{ gb - 1 }}:0] g_end_w = ctl_end_w[{{ gb - 1 }}:0];
  wire        last_end_w = ctl_end_w[{{ gb + 1 }}];
  wire        bank_end_w = ctl_end_w[{{ gb + 2 }}];
  wire        v_end_w = cv_q[{{ depth }}];
  wire        unused_ctl_w = ctl_end_w[{{ gb }}];

  // ---- memories ----
  wire [{{ rows * aw - 1 }}:0] a_rd_w;
  wire [{{ cols * ww - 1 }}:0] w_rd_w;
  // The read data is registered before the dots decode it (block RAM outputs are slow).
  reg  [{{ rows * aw - 1 }}:0] a_rd_q;
  reg  [{{ cols * ww - 1 }}:0] w_rd_q;
  always @(posedge clk_i) begin
    a_rd_q <= a_rd_w;
    w_rd_q <= w_rd_w;
  end
{%- for r in row_ids %}
  {{ aram }} u_aram{{ r }} (
    .clk_i(clk_i),
    .we_i(a_we_q[{{ r }}]),
    .waddr_i(a_waddr_q),
    .wdata_i(a_wdata_q),
    .raddr_i(a_raddr_q),
    .rdata_o(a_rd_w[{{ r * aw }} +: {{ aw }}])
  );
{%- endfor %}
{%- for (wram, col) in wrams %}
  {{ wram }} u_wram{{ col }} (
    .clk_i(clk_i),
    .we_i(w_we_i & (w_col_i == {{ colb }}'d{{ col }})),
    .waddr_i(w_addr_i),
    .wdata_i(w_data_i),
    .raddr_i(w_raddr_q),
    .rdata_o(w_rd_w[{{ col * ww }} +: {{ ww }}])
  );
{%- endfor %}
  wire [{{ pw - 1 }}:0] p_rd_w, p_wr_w;
  {{ pram }} u_pram (
    .clk_i(clk_i),
    .we_i(v_end_w & ~last_end_w),
    .waddr_i(g_end_w),
    .wdata_i(p_wr_w),
    .raddr_i(g_pread_w),
    .rdata_o(p_rd_w)
  );

  // ---- the array: block pair -> exact sum -> FP32 -> partial sum ----
  wire [{{ rows * oww - 1 }}:0] o_wr_w;
  genvar r, c;
  generate
    for (r = 0; r < {{ rows }}; r = r + 1) begin : g_row
      for (c = 0; c < {{ cols }}; c = c + 1) begin : g_col
{%- for w in dot_wires %}
        {{ w }}
{%- endfor %}
        wire        d_ready_w, d_valid_w;
        {{ dot_name }} u_dot (
          .clk_i(clk_i),
          .rst_ni(rst_ni),
          .valid_i(cv_q[{{ at_dot }}]),
          .ready_o(d_ready_w),
          .valid_o(d_valid_w),
          .ready_i(1'b1),
          {{ dot_conns }}
        );
        wire        unused_d_w = d_ready_w | d_valid_w;
        // The block sum's sign and magnitude are registered, then rounded in stages; its NaN
        // flag waits beside it.
        wire        neg_w = d_sum_w[{{ sum_w - 1 }}];
        wire [{{ sum_w - 1 }}:0] mag_w = neg_w ? {{ sum_w }}'d0 - d_sum_w : d_sum_w;
        reg  [{{ sum_w - 1 }}:0] mag1_q;
        reg         neg1_q;
        reg  [{{ exp_w - 1 }}:0] exp1_q;
        reg  [{{ nan_delay }}:1] nan_q;
        always @(posedge clk_i) begin
          {exp1_q, neg1_q, mag1_q} <= {d_exp_w, neg_w, mag_w};
          nan_q <= {nan_q[{{ nan_delay - 1 }}:1], d_nan_w};
        end
        wire [{{ exp_w - 1 }}:0] ebias_w = {{ exp_ext }} + {{ exp_bias }};
        wire        unused_e_w = |ebias_w[{{ exp_w - 1 }}:9];
        wire [31:0] f_w;
        {{ tof32_name }} u_round (
          .clk_i(clk_i),
          .neg_i(neg1_q),
          .mag_i(mag1_q),
          .exp_i(ebias_w[8:0]),
          .f32_o(f_w)
        );
        reg  [31:0] term_q;
        always @(posedge clk_i) term_q <= nan_q[{{ nan_delay }}] ? 32'h7fc00000 : f_w;
        wire [31:0] acc_w = first_add_w ? 32'd0 : p_rd_w[(r*{{ cols }} + c)*32 +: 32];
        wire [31:0] s_w;
        {{ fadd_name }} u_add (
          .clk_i(clk_i),
          .a_i(acc_w),
          .b_i(term_q),
          .s_o(s_w)
        );
        assign p_wr_w[(r*{{ cols }} + c)*32 +: 32] = s_w;
{%- if bf16 %}
        // BF16, nearest even (NaNs are canonical, so they stay 0x7FC0).
        wire [31:0] rnd_w = s_w + 32'h7fff + {31'd0, s_w[16]};
        wire        unused_r_w = |rnd_w[15:0];
        assign o_wr_w[r*{{ oww }} + c*16 +: 16] = rnd_w[31:16];
{%- else %}
        assign o_wr_w[r*{{ oww }} + c*32 +: 32] = s_w;
{%- endif %}
      end
    end
  endgenerate

  // ---- results: two banks per tile row, sent row by row ----
  wire [{{ rows * oww - 1 }}:0] o_rd_w;
  reg         rbank_q;
  reg  [{{ rb - 1 }}:0] orow_q;
  reg  [{{ ogb - 1 }}:0] og_q;
  wire [{{ ob - 1 }}:0] o_waddr_w = bank_end_w ? {{ ob }}'d{{ groups }} + {{ g_end_o }} : {{ g_end_o }};
  // The read address is registered from the next state, so the memory's pins see a register.
  reg  [{{ ob - 1 }}:0] o_raddr_q;
{%- for r in row_ids %}
  {{ oram }} u_oram{{ r }} (
    .clk_i(clk_i),
    .we_i(v_end_w & last_end_w),
    .waddr_i(o_waddr_w),
    .wdata_i(o_wr_w[{{ r * oww }} +: {{ oww }}]),
    .raddr_i(o_raddr_q),
    .rdata_o(o_rd_w[{{ r * oww }} +: {{ oww }}])
  );
{%- endfor %}
  // A read is issued when the three-entry output queue will have room for it and for the
  // read still in flight (the memory takes two cycles).
{%- if requant %}
  wire        rq_ready_w;
{%- endif %}
  reg  [2:1]  rd_v_q, rd_last_q;
  reg  [{{ 2 * rb - 1 }}:0] rd_row_q;
{%- if rows > 1 %}
  wire [{{ rb - 1 }}:0] rd_row2_w = rd_row_q[{{ 2 * rb - 1 }}:{{ rb }}];
{%- endif %}
  reg  [1:0]  qn_q;
  reg  [{{ oww }}:0] q0_q, q1_q, q2_q;
  wire        f0v_w = qn_q != 2'd0;
  wire        pop_w = f0v_w & {% if requant %}rq_ready_w{% else %}ready_i{% endif %};
  // Entries after this cycle's pop, then after its push too.
  wire [1:0]  keep_w = qn_q - {1'b0, pop_w};
  wire [1:0]  n_w = keep_w + {1'b0, rd_v_q[2]};
  wire        og_last_w = og_q == {{ ogb }}'d{{ groups - 1 }};
  wire        orow_last_w = orow_q == {{ rb }}'d{{ rows - 1 }};
  wire        rd_go_w = oready_q[rbank_q] & ({1'b0, n_w} + {2'd0, rd_v_q[1]} < 3'd3);
  wire        drained_w = rd_go_w & og_last_w & orow_last_w;
  wire        o_done_w = v_end_w & last_end_w & (g_end_w == {{ gb }}'d{{ groups - 1 }});
  wire [{{ ogb - 1 }}:0] og_d_w = rd_go_w ? (og_last_w ? {{ ogb }}'d0 : og_q + {{ ogb }}'d1) : og_q;
  wire        rbank_d_w = drained_w ? ~rbank_q : rbank_q;
  wire [{{ oww - 1 }}:0] o_sel_w = {{ row_mux }};
{%- if rows == 1 %}
  wire        unused_row_w = |rd_row_q;
{%- endif %}
  wire [{{ oww }}:0] new_w = {rd_last_q[2], o_sel_w};
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      rbank_q  <= 1'b0;
      orow_q   <= {{ rb }}'d0;
      og_q     <= {{ ogb }}'d0;
      o_raddr_q <= {{ ob }}'d0;
      oclaim_q <= 2'b00;
      oready_q <= 2'b00;
      rd_v_q   <= 2'b00;
      qn_q     <= 2'd0;
    end else begin
      og_q    <= og_d_w;
      rbank_q <= rbank_d_w;
      o_raddr_q <= rbank_d_w ? {{ ob }}'d{{ groups }} + {{ og_d }} : {{ og_d }};
      if (rd_go_w & og_last_w) orow_q <= orow_last_w ? {{ rb }}'d0 : orow_q + {{ rb }}'d1;
      oclaim_q <= (oclaim_q | ({1'b0, start_w} << cbank_q)) & ~({1'b0, drained_w} << rbank_q);
      // The bank bit travels in the control pipeline, which has no reset: an AND, not a
      // shift by it, keeps a 4-state simulator from reading X before the first group ends.
      oready_q <= (oready_q | {o_done_w & bank_end_w, o_done_w & ~bank_end_w}) & ~({1'b0, drained_w} << rbank_q);
      rd_v_q <= {rd_v_q[1], rd_go_w};
      qn_q   <= n_w;
    end
  end
  // q0 is the head: a pop moves the others down, and a landed read goes in behind them.
  always @(posedge clk_i) begin
    rd_row_q  <= {rd_row_q[{{ rb - 1 }}:0], orow_q};
    rd_last_q <= {rd_last_q[1], og_last_w};
    if (pop_w) begin
      q0_q <= q1_q;
      q1_q <= q2_q;
    end
    if (rd_v_q[2]) begin
      if (keep_w == 2'd0) q0_q <= new_w;
      else if (keep_w == 2'd1) q1_q <= new_w;
      else q2_q <= new_w;
    end
  end
{%- if requant %}

  // ---- results quantized again for the next layer, {{ rq_blocks }} blocks a row ----
{%- for w in rq_wires %}
  {{ w }}
{%- endfor %}
  {{ rq_name }} u_requant (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
    .valid_i(f0v_w),
    .ready_o(rq_ready_w),
    .valid_o(valid_o),
    .ready_i(ready_i),
    {{ rq_conns }}
  );
  reg  [{{ rqb - 1 }}:0] rq_blk_q;
  wire        rq_row_last_w = rq_blk_q == {{ rqb }}'d{{ rq_blocks - 1 }};
  always @(posedge clk_i) begin
    if (!rst_ni) rq_blk_q <= {{ rqb }}'d0;
    else if (valid_o & ready_i & r_last_w) rq_blk_q <= rq_row_last_w ? {{ rqb }}'d0 : rq_blk_q + {{ rqb }}'d1;
  end
  assign scale_o      = r_scale_w;
  assign codes_o      = r_codes_w;
  assign nan_o        = r_nan_w;
  assign block_last_o = r_last_w;
  assign last_o       = r_last_w & rq_row_last_w;
  wire        unused_rl_w = q0_q[{{ oww }}];
{%- else %}
  assign valid_o = f0v_w;
  assign y_o     = q0_q[{{ oww - 1 }}:0];
  assign last_o  = q0_q[{{ oww }}];
{%- endif %}

endmodule

`default_nettype wire
