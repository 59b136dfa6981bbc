{{ banner }}
//
// Co-simulation harness for {{ top }}. It knows nothing about the unit's numerics: it streams
// input beats into the design with random valid/ready stalls and writes every output beat out.
//
//   stream mode:  V{{ top }}_harness [--stall-in P] [--stall-out P] [--seed S] [--drain N]
//                 [--block-in N --block-out M] [--watchdog W]
//                 [--wave F [--wave-start-in A] [--wave-stop-out B]]
//                 input beats on stdin, output beats on stdout (binary, fixed-size records)
//   replay mode:  V{{ top }}_harness --replay FILE [--wave F]
//                 runs the recorded beats with the recorded stall and watchdog settings and
//                 compares the outputs with the recorded expectations itself; exit 1 on a mismatch
//
// Watchdog: a block is N input beats and M output beats. Once a block's last input beat is
// taken, its output must be complete within W cycles in which the sink was ready (the only
// cycles in which a correct design must make progress); a presented input beat must be taken
// within W such cycles; an output beat of a block with no input taken yet is unexpected. Any of
// these stops the run with exit 4 and a line on stderr, after writing the outputs seen so far.
//
// Input beat record ({{ in_beat_bytes }} bytes): {{ in_layout }}
// Output beat record ({{ out_beat_bytes }} bytes): {{ out_layout }}
// Values are little-endian, each in the fewest whole bytes that hold it.
//
// The model is {{ model }}: the design behind a register on its data inputs, which the harness
// loads at the rising edge before a beat is presented (the beat after the one taken, read
// ahead), so the design's input stage runs once per edge rather than on every eval.

#include "V{{ model }}.h"
#include "verilated.h"
#if VM_TRACE_FST
#include "verilated_fst_c.h"
typedef VerilatedFstC Trace;
#elif VM_TRACE_VCD
#include "verilated_vcd_c.h"
typedef VerilatedVcdC Trace;
#endif
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

static const size_t IN_BEAT = {{ in_beat_bytes }};
static const size_t OUT_BEAT = {{ out_beat_bytes }};

// SplitMix64: the stall pattern is a pure function of the seed.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    bool chance(double p) { return p > 0.0 && (double)(next() >> 11) / 9007199254740992.0 < p; }
};

// Field access for every port type Verilator uses (8/16/32/64-bit scalars, wide words).
template <typename T> static void put_bits(T& port, int off, int w, uint64_t v) {
    const uint64_t mask = (w >= 64) ? ~0ULL : ((1ULL << w) - 1);
    uint64_t p = (uint64_t)port;
    p = (p & ~(mask << off)) | ((v & mask) << off);
    port = (T)p;
}
template <std::size_t N> static void put_bits(VlWide<N>& port, int off, int w, uint64_t v) {
    while (w > 0) {
        const int word = off / 32, bit = off % 32;
        const int take = (32 - bit) < w ? (32 - bit) : w;
        const uint32_t mask = (take == 32 ? 0xffffffffu : ((1u << take) - 1u)) << bit;
        port[word] = (port[word] & ~mask) | (((uint32_t)v << bit) & mask);
        v >>= take;
        off += take;
        w -= take;
    }
}
template <typename T> static uint64_t get_bits(const T& port, int off, int w) {
    const uint64_t mask = (w >= 64) ? ~0ULL : ((1ULL << w) - 1);
    return ((uint64_t)port >> off) & mask;
}
template <std::size_t N> static uint64_t get_bits(const VlWide<N>& port, int off, int w) {
    if (w <= 32) {  // at most two words: no loop (codes and scales, every output beat)
        const int word = off / 32, bit = off % 32;
        uint64_t v = port[word] >> bit;
        if (bit + w > 32) v |= (uint64_t)port[word + 1] << (32 - bit);
        return v & ((1ULL << w) - 1);
    }
    uint64_t v = 0;
    int done = 0;
    while (done < w) {
        const int word = off / 32, bit = off % 32;
        const int take = (32 - bit) < (w - done) ? (32 - bit) : (w - done);
        const uint32_t part = (port[word] >> bit) & (take == 32 ? 0xffffffffu : ((1u << take) - 1u));
        v |= (uint64_t)part << done;
        done += take;
        off += take;
    }
    return v;
}
// Ports whose values fill whole bytes: the record's bytes are the port's bits (little-endian).
template <typename T> static void put_dense(T& port, const uint8_t* p, size_t n) { memcpy(&port, p, n); }
template <std::size_t N> static void put_dense(VlWide<N>& port, const uint8_t* p, size_t n) { memcpy(port.data(), p, n); }
template <typename T> static void get_dense(const T& port, uint8_t* p, size_t n) { memcpy(p, &port, n); }
template <std::size_t N> static void get_dense(const VlWide<N>& port, uint8_t* p, size_t n) { memcpy(p, port.data(), n); }
static uint64_t rd_le(const uint8_t* p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static void wr_le(uint8_t* p, int n, uint64_t v) {
    for (int i = 0; i < n; ++i) p[i] = (uint8_t)(v >> (8 * i));
}

static void drive(V{{ model }}* top, const uint8_t* rec) {
{%- for f in inputs %}
{%- if f.dense %}
    put_dense(top->{{ f.name }}, rec + {{ f.offset }}, {{ f.total_bytes }});
{%- else %}
    for (int j = 0; j < {{ f.count }}; ++j)
{%- if f.bytes > 8 %}
        for (int b = 0; b < {{ f.bytes }}; ++b)
            put_bits(top->{{ f.name }}, j * {{ f.bits }} + 8 * b, ({{ f.bits }} - 8 * b) < 8 ? ({{ f.bits }} - 8 * b) : 8, rec[{{ f.offset }} + j * {{ f.bytes }} + b]);
{%- else %}
        put_bits(top->{{ f.name }}, j * {{ f.bits }}, {{ f.bits }}, rd_le(rec + {{ f.offset }} + j * {{ f.bytes }}, {{ f.bytes }}));
{%- endif %}
{%- endif %}
{%- endfor %}
}

static void sample(V{{ model }}* top, uint8_t* rec) {
{%- for f in outputs %}
{%- if f.dense %}
    get_dense(top->{{ f.name }}, rec + {{ f.offset }}, {{ f.total_bytes }});
{%- else %}
    for (int j = 0; j < {{ f.count }}; ++j)
{%- if f.bytes > 8 %}
        for (int b = 0; b < {{ f.bytes }}; ++b)
            rec[{{ f.offset }} + j * {{ f.bytes }} + b] = (uint8_t)get_bits(top->{{ f.name }}, j * {{ f.bits }} + 8 * b, ({{ f.bits }} - 8 * b) < 8 ? ({{ f.bits }} - 8 * b) : 8);
{%- else %}
        wr_le(rec + {{ f.offset }} + j * {{ f.bytes }}, {{ f.bytes }}, get_bits(top->{{ f.name }}, j * {{ f.bits }}, {{ f.bits }}));
{%- endif %}
{%- endif %}
{%- endfor %}
}

// Input beats come from stdin (stream) or memory (replay); outputs go to stdout or memory.
struct Source {
    std::vector<uint8_t> buf;
    size_t pos = 0;
    bool eof = false;
    bool from_stdin = true;
    // Make at least `beats` whole beats available; false once input is exhausted.
    bool want(size_t beats, std::vector<uint8_t>& out_pending) {
        while (buf.size() - pos < beats * IN_BEAT) {
            if (!from_stdin || eof) return false;
            // Flush outputs before blocking on input, so the other side never waits on us.
            if (!out_pending.empty()) {
                if (fwrite(out_pending.data(), 1, out_pending.size(), stdout) != out_pending.size()) exit(3);
                out_pending.clear();
            }
            fflush(stdout);
            if (pos > 0) { buf.erase(buf.begin(), buf.begin() + pos); pos = 0; }
            static uint8_t tmp[1 << 20];
            ssize_t n = read(0, tmp, sizeof tmp);
            if (n <= 0) { eof = true; return buf.size() - pos >= beats * IN_BEAT; }
            buf.insert(buf.end(), tmp, tmp + n);
        }
        return true;
    }
};

int main(int argc, char** argv) {
    double stall_in = 0.0, stall_out = 0.0;
    uint64_t seed = 1, drain = {{ default_drain }}, block_in = 0, block_out = 0, watchdog = {{ default_drain }};
    const char* wave = nullptr;
    // The trace covers the cycles from the A-th accepted input beat until the B-th output
    // beat (0: to the end), so a window of blocks of a long run can be looked at.
    uint64_t wave_start_in = 0, wave_stop_out = 0;
    const char* replay = nullptr;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--stall-in") stall_in = atof(argv[i + 1]);
        else if (a == "--stall-out") stall_out = atof(argv[i + 1]);
        else if (a == "--seed") seed = strtoull(argv[i + 1], nullptr, 10);
        else if (a == "--drain") drain = strtoull(argv[i + 1], nullptr, 10);
        else if (a == "--block-in") block_in = strtoull(argv[i + 1], nullptr, 10);
        else if (a == "--block-out") block_out = strtoull(argv[i + 1], nullptr, 10);
        else if (a == "--watchdog") watchdog = strtoull(argv[i + 1], nullptr, 10);
        else if (a == "--wave") wave = argv[i + 1];
        else if (a == "--wave-start-in") wave_start_in = strtoull(argv[i + 1], nullptr, 10);
        else if (a == "--wave-stop-out") wave_stop_out = strtoull(argv[i + 1], nullptr, 10);
        else if (a == "--replay") replay = argv[i + 1];
        else { fprintf(stderr, "harness: unknown option %s\n", a.c_str()); return 2; }
    }

    // Larger pipes let both sides run ahead of each other instead of taking turns.
#ifdef F_SETPIPE_SZ
    fcntl(0, F_SETPIPE_SZ, 1 << 20);
    fcntl(1, F_SETPIPE_SZ, 1 << 20);
#endif
    Source src;
    std::vector<uint8_t> expected;
    if (replay) {
        // Replay file: "BRTLRPY2", u64 in-beat bytes, u64 out-beat bytes, u64 input beats,
        // u64 output beats, u64 seed, u64 block-in, u64 block-out, u64 watchdog,
        // f64 stall-in, f64 stall-out, then the beats.
        FILE* f = fopen(replay, "rb");
        if (!f) { fprintf(stderr, "harness: cannot open %s\n", replay); return 2; }
        char magic[8];
        uint64_t hdr[8];
        double st[2];
        if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "BRTLRPY2", 8) != 0 ||
            fread(hdr, 8, 8, f) != 8 || fread(st, 8, 2, f) != 2 || hdr[0] != IN_BEAT || hdr[1] != OUT_BEAT ||
            hdr[2] > (1ULL << 40) / (IN_BEAT ? IN_BEAT : 1) || hdr[3] > (1ULL << 40) / (OUT_BEAT ? OUT_BEAT : 1)) {
            fprintf(stderr, "harness: %s is not a replay file for this design\n", replay);
            return 2;
        }
        seed = hdr[4];
        block_in = hdr[5];
        block_out = hdr[6];
        watchdog = hdr[7];
        stall_in = st[0];
        stall_out = st[1];
        src.buf.resize(hdr[2] * IN_BEAT);
        expected.resize(hdr[3] * OUT_BEAT);
        if (fread(src.buf.data(), 1, src.buf.size(), f) != src.buf.size() ||
            fread(expected.data(), 1, expected.size(), f) != expected.size()) {
            fprintf(stderr, "harness: %s is truncated\n", replay);
            return 2;
        }
        fclose(f);
        src.from_stdin = false;
    }

    VerilatedContext ctx;
    ctx.commandArgs(1, argv);
    V{{ model }}* top = new V{{ model }}{&ctx};
#if VM_TRACE
    Trace* tfp = nullptr;
    if (wave) {
        ctx.traceEverOn(true);
        tfp = new Trace;
        top->trace(tfp, 99);
        tfp->open(wave);
        if (!tfp->isOpen()) { fprintf(stderr, "harness: cannot write %s\n", wave); return 2; }
    }
#else
    if (wave) { fprintf(stderr, "harness: built without tracing; rebuild with waves\n"); return 2; }
#endif
    uint64_t time = 0;
    uint64_t in_beats = 0, out_beats = 0;
    // Phase 0: clock low, inputs applied, combinational outputs settle. Phase 1: rising edge.
    auto half = [&](int clk) {
        top->clk_i = clk;
        top->eval();
#if VM_TRACE
        if (tfp && in_beats >= wave_start_in && (wave_stop_out == 0 || out_beats < wave_stop_out)) tfp->dump(time);
#endif
        time += 5;
    };
    auto tick = [&](void) { half(0); half(1); };

    Rng rng{seed};
    top->rst_ni = 0;
    top->valid_i = 0;
    top->ready_i = 0;
    top->load_i = 0;
    tick();
    // The first beat enters the input register during reset.
    std::vector<uint8_t> out_pending, got;
    if (src.want(1, out_pending)) {
        drive(top, src.buf.data() + src.pos);
        top->load_i = 1;
    }
    tick();
    top->load_i = 0;
    top->rst_ni = 1;

    uint8_t rec[OUT_BEAT > 0 ? OUT_BEAT : 1];
    uint64_t cycles = 0, idle = 0, ready_cycles = 0, wait_in = 0;
    int64_t first_in = -1, first_out = -1, last_out = -1;
    bool presenting = false;
    // Blocks whose input is complete and whose output is not: (block, ready_cycles then).
    std::deque<std::pair<uint64_t, uint64_t>> owed;
    char why[256] = "";
    while (true) {
        // Hold a presented beat until it is taken (AXI-Stream); otherwise stall at random. The
        // beat is in the input register already: loaded at the edge its predecessor was taken.
        if (!presenting && src.want(1, out_pending) && !rng.chance(stall_in)) presenting = true;
        const bool draining = !presenting && (src.eof || !src.from_stdin) && src.buf.size() - src.pos < IN_BEAT;
        top->valid_i = presenting;
        top->ready_i = draining ? 1 : !rng.chance(stall_out);
        half(0);
        const bool in_fire = presenting && top->ready_o;
        const bool out_fire = top->valid_o && top->ready_i;
        if (in_fire) {
            ++in_beats;
            if (block_in && in_beats % block_in == 0) owed.push_back({in_beats / block_in - 1, ready_cycles});
        }
        if (out_fire) {
            sample(top, rec);
            if (src.from_stdin) out_pending.insert(out_pending.end(), rec, rec + OUT_BEAT);
            else got.insert(got.end(), rec, rec + OUT_BEAT);
            if (first_out < 0) first_out = (int64_t)cycles;
            last_out = (int64_t)cycles;
            ++out_beats;
            if (block_in && block_out) {
                const uint64_t blk = (out_beats - 1) / block_out;
                if (blk >= (in_beats + block_in - 1) / block_in) {
                    snprintf(why, sizeof why, "unexpected output beat %llu (block %llu) at cycle %llu: no input beat of that block was taken",
                             (unsigned long long)(out_beats - 1), (unsigned long long)blk, (unsigned long long)cycles);
                } else if (out_beats % block_out == 0) {
                    if (owed.empty())
                        snprintf(why, sizeof why, "output of block %llu complete at cycle %llu before its input was",
                                 (unsigned long long)blk, (unsigned long long)cycles);
                    else
                        owed.pop_front();
                }
            }
        }
        // Load the next beat at the edge that takes this one.
        top->load_i = in_fire && src.want(2, out_pending);
        if (top->load_i) drive(top, src.buf.data() + src.pos + IN_BEAT);
        half(1);
        if (in_fire) {
            if (first_in < 0) first_in = (int64_t)cycles;
            src.pos += IN_BEAT;
            presenting = false;
        }
        if (top->ready_i) ++ready_cycles;
        wait_in = (presenting && top->ready_i) ? wait_in + 1 : (presenting ? wait_in : 0);
        ++cycles;
        idle = (in_fire || out_fire) ? 0 : idle + 1;
        if (!why[0] && !owed.empty() && ready_cycles - owed.front().second > watchdog)
            snprintf(why, sizeof why, "missing output of block %llu: %llu output beats came, and its input was complete %llu sink-ready cycles ago (watchdog %llu)",
                     (unsigned long long)owed.front().first, (unsigned long long)out_beats,
                     (unsigned long long)(ready_cycles - owed.front().second), (unsigned long long)watchdog);
        if (!why[0] && wait_in > watchdog)
            snprintf(why, sizeof why, "input beat %llu not taken for %llu sink-ready cycles (watchdog %llu): the design is stuck",
                     (unsigned long long)in_beats, (unsigned long long)wait_in, (unsigned long long)watchdog);
        if (!why[0] && !draining && idle > 1000000)
            snprintf(why, sizeof why, "no handshake for 1000000 cycles at cycle %llu: the design is stuck", (unsigned long long)cycles);
        if (why[0]) break;
        if (draining && idle > drain) {
            if (block_in && !owed.empty())
                snprintf(why, sizeof why, "missing output of block %llu after the input ended (%llu output beats came)",
                         (unsigned long long)owed.front().first, (unsigned long long)out_beats);
            else if (block_out && out_beats % block_out != 0)
                snprintf(why, sizeof why, "the last block's output ended after %llu of its %llu beats",
                         (unsigned long long)(out_beats % block_out), (unsigned long long)block_out);
            break;
        }
        if (out_pending.size() >= (1 << 18)) {
            if (fwrite(out_pending.data(), 1, out_pending.size(), stdout) != out_pending.size()) return 3;
            out_pending.clear();
        }
    }
    if (!out_pending.empty() && fwrite(out_pending.data(), 1, out_pending.size(), stdout) != out_pending.size()) return 3;
    fflush(stdout);
#if VM_TRACE
    if (tfp) { tfp->close(); delete tfp; }
#endif
    top->final();
    delete top;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    fprintf(stderr, "harness: cycles=%llu in_beats=%llu out_beats=%llu first_in=%lld first_out=%lld last_out=%lld cpu=%.3f\n",
            (unsigned long long)cycles, (unsigned long long)in_beats, (unsigned long long)out_beats,
            (long long)first_in, (long long)first_out, (long long)last_out, cpu);
    if (why[0]) fprintf(stderr, "harness: watchdog: %s\n", why);

    if (replay) {
        size_t n = got.size() < expected.size() ? got.size() : expected.size();
        int shown = 0;
        for (size_t b = 0; b * OUT_BEAT < n; ++b) {
            if (memcmp(got.data() + b * OUT_BEAT, expected.data() + b * OUT_BEAT, OUT_BEAT) != 0 && shown < 8) {
                fprintf(stderr, "replay: output beat %zu differs\n  expected:", b);
                for (size_t i = 0; i < OUT_BEAT; ++i) fprintf(stderr, " %02x", expected[b * OUT_BEAT + i]);
                fprintf(stderr, "\n  got:     ");
                for (size_t i = 0; i < OUT_BEAT; ++i) fprintf(stderr, " %02x", got[b * OUT_BEAT + i]);
                fprintf(stderr, "\n");
                ++shown;
            }
        }
        bool same = got.size() == expected.size() && memcmp(got.data(), expected.data(), n) == 0;
        if (got.size() != expected.size())
            fprintf(stderr, "replay: %zu output beats, expected %zu\n", got.size() / OUT_BEAT, expected.size() / OUT_BEAT);
        same = same && !why[0];
        fprintf(stderr, "replay: %s (%zu output beats compared)\n", same ? "PASS" : "FAIL", n / OUT_BEAT);
        return same ? 0 : 1;
    }
    return why[0] ? 4 : 0;
}
