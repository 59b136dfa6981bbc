{{ banner }}
`default_nettype none

// {{ about }}
// The same memory as the inferred form, {{ depth }} words of {{ width }} bits, built from {{ blocks.len() }} ECP5 DP16KD
// block RAMs of 1024 x 18 with their output register (REGMODE OUTREG): a block latches the
// read address and reads at that edge, its output register holds the word a cycle, and the
// bank it came from is chosen after that. rdata_o is word raddr_i of two cycles before.
module {{ name }} (
  input  wire        clk_i,
  input  wire        we_i,
  input  wire [{{ addr_msb }}:0] waddr_i,
  input  wire [{{ width - 1 }}:0] wdata_i,
  input  wire [{{ addr_msb }}:0] raddr_i,
  output wire [{{ width - 1 }}:0] rdata_o
);

  // Address pins 13:4 take the word, 1:0 are the write port's byte enables.
  wire [13:0] wa_w = {{ wa_expr }};
  wire [13:0] ra_w = {{ ra_expr }};
  wire [{{ slices * 18 - 1 }}:0] wd_w = {{ wd_expr }};
  wire [{{ blocks.len() * 18 - 1 }}:0] rd_w;
{%- if banks > 1 %}
  reg  [{{ sel_msb }}:0] sel1_q, sel2_q;
  always @(posedge clk_i) begin
    sel1_q <= raddr_i[{{ addr_msb }}:10];
    sel2_q <= sel1_q;
  end
{%- endif %}
{%- for blk in blocks %}
  DP16KD #(
    .DATA_WIDTH_A(18),
    .DATA_WIDTH_B(18),
    .REGMODE_A("NOREG"),
    .REGMODE_B("OUTREG"),
    .WRITEMODE_A("NORMAL"),
    .WRITEMODE_B("NORMAL"),
    .CSDECODE_A("0b000"),
    .CSDECODE_B("0b000"),
{%- for v in blk.initval %}
    .INITVAL_{{ "{:02X}"|format(loop.index0) }}(320'h{{ v }}),
{%- endfor %}
    .GSR("DISABLED")
  ) u_b{{ blk.bank }}_{{ blk.slice }} (
    .CLKA(clk_i), .CEA(1'b1), .OCEA(1'b1), .WEA({{ blk.we }}), .RSTA(1'b0),
    .CSA0(1'b0), .CSA1(1'b0), .CSA2(1'b0),
    {% for i in 0..14 %}.ADA{{ i }}(wa_w[{{ i }}]), {% endfor %}
    {% for i in 0..18 %}.DIA{{ i }}(wd_w[{{ blk.slice * 18 + i }}]), {% endfor %}
    .CLKB(clk_i), .CEB(1'b1), .OCEB(1'b1), .WEB(1'b0), .RSTB(1'b0),
    .CSB0(1'b0), .CSB1(1'b0), .CSB2(1'b0),
    {% for i in 0..14 %}.ADB{{ i }}(ra_w[{{ i }}]), {% endfor %}
    {% for i in 0..18 %}.DIB{{ i }}(1'b0), {% endfor %}
    {% for i in 0..18 %}.DOB{{ i }}(rd_w[{{ blk.rd_lsb + i }}]){% if i < 17 %}, {% endif %}{% endfor %}
  );
{%- endfor %}
  assign rdata_o = {{ rd_mux }};

endmodule

`default_nettype wire
