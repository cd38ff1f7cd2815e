/* Native CPU kernels for batch-one decoding (built by __init__.py, called through ops.py). */

/* y = x · wᵀ for a few rows of x (a decode step, an MTP verify): the weight is streamed from memory
 * once for all rows, with each row's accumulators in registers. MKL's sgemm streams such shapes at a
 * third to a half of the memory bandwidth; this loop gets close to it.
 *
 * x (M, K) and y (M, N) are row-major float32, w (N, K) row-major float32, bfloat16 or int8;
 * 1 <= M <= 8. Every (m, n) sums in the same order whatever M is, so one row gives bitwise the same
 * result alone or among others (speculative verification then agrees exactly with plain decoding). */

#ifdef __AVX512F__ /* only there: the generic vector code below builds on any target */
#include <immintrin.h>
#endif
#include <math.h>
#include <omp.h>
#include <stdlib.h>

typedef float v16 __attribute__((vector_size(64), aligned(4), may_alias));

#define LOAD(p) (*(const v16 *)(p))

/* The 16 lanes summed pairwise (four dependent adds instead of fifteen), in a fixed order. Plain
 * lane loops, which compilers turn into shuffles (no __builtin_shufflevector: GCC 12+ only). */
static inline float hsum(v16 v) {
    float a[8], b[4];
    for (int i = 0; i < 8; ++i) a[i] = v[i] + v[i + 8];
    for (int i = 0; i < 4; ++i) b[i] = a[i] + a[i + 4];
    return (b[0] + b[2]) + (b[1] + b[3]);
}

/* Weights stored as bfloat16 (the top half of a float32) are widened in registers: a decode step
 * then streams half the bytes, and every product is still float32 (a bfloat16 widens exactly). */
typedef float f32;
typedef unsigned short bf16;
typedef unsigned short vh16 __attribute__((vector_size(32), aligned(2), may_alias));
typedef unsigned int vu16 __attribute__((vector_size(64)));

static inline v16 load_f32(const f32 *p) { return LOAD(p); }
static inline v16 load_bf16(const bf16 *p) {
#ifdef __AVX512F__ /* one widening load and a shift (GCC splits the generic form into six steps) */
    return (v16)_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16);
#else
    return (v16)(__builtin_convertvector(*(const vh16 *)p, vu16) << 16);
#endif
}
/* Int8 weights (per-row scaled; the caller multiplies each output column by its row's scale):
 * a draft model's quarter of float32's bytes. */
typedef signed char i8;
typedef signed char vc16 __attribute__((vector_size(16), aligned(1), may_alias));
static inline v16 load_i8(const i8 *p) {
#ifdef __AVX512F__
    return (v16)_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
#else
    return __builtin_convertvector(*(const vc16 *)p, v16);
#endif
}
static inline float scalar_i8(const i8 *p) { return (float)*p; }
static inline float scalar_f32(const f32 *p) { return *p; }
static inline float scalar_bf16(const bf16 *p) {
    unsigned int bits = (unsigned int)*p << 16;
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

/* One function per weight type and row count, so the M accumulators stay in registers. */
#define ROWS(T, MM)                                                                       \
    static void rows_##T##_##MM(const float *x, const T *w, float *y, long K, long N,     \
                                int threads) {                                            \
        _Pragma("omp parallel for schedule(static) num_threads(threads) if(threads > 1)") \
        for (long n = 0; n < N; ++n) {                                                    \
            const T *row = w + n * K;                                                     \
            v16 acc[MM];                                                                  \
            for (int m = 0; m < MM; ++m) acc[m] = (v16){0};                               \
            long k = 0;                                                                   \
            for (; k + 16 <= K; k += 16) {                                                \
                v16 r = load_##T(row + k);                                                \
                if (MM > 1) /* compute-bound: ask for the weights early (one row: hardware does) */ \
                    __builtin_prefetch(row + k + 1024);                                   \
                for (int m = 0; m < MM; ++m) acc[m] += r * LOAD(x + m * K + k);           \
            }                                                                             \
            if (k < K) { /* the tail as one zero-padded vector: the same operations per row */ \
                v16 r = (v16){0}, xs;                                                     \
                for (long i = k; i < K; ++i) r[i - k] = scalar_##T(row + i);              \
                for (int m = 0; m < MM; ++m) {                                            \
                    xs = (v16){0};                                                        \
                    for (long i = k; i < K; ++i) xs[i - k] = x[m * K + i];                \
                    acc[m] += r * xs;                                                     \
                }                                                                         \
            }                                                                             \
            for (int m = 0; m < MM; ++m) y[m * N + n] = hsum(acc[m]);                     \
        }                                                                                 \
    }

#define ALL_ROWS(T)                                                                       \
    ROWS(T, 1) ROWS(T, 2) ROWS(T, 3) ROWS(T, 4) ROWS(T, 5) ROWS(T, 6) ROWS(T, 7) ROWS(T, 8) \
    static int linear_##T(const float *x, const T *w, float *y, long M, long K, long N,   \
                          int threads) {                                                  \
        switch (M) {                                                                      \
        case 1: rows_##T##_1(x, w, y, K, N, threads); return 0;                           \
        case 2: rows_##T##_2(x, w, y, K, N, threads); return 0;                           \
        case 3: rows_##T##_3(x, w, y, K, N, threads); return 0;                           \
        case 4: rows_##T##_4(x, w, y, K, N, threads); return 0;                           \
        case 5: rows_##T##_5(x, w, y, K, N, threads); return 0;                           \
        case 6: rows_##T##_6(x, w, y, K, N, threads); return 0;                           \
        case 7: rows_##T##_7(x, w, y, K, N, threads); return 0;                           \
        case 8: rows_##T##_8(x, w, y, K, N, threads); return 0;                           \
        default: return -1;                                                               \
        }                                                                                 \
    }

ALL_ROWS(f32)
ALL_ROWS(bf16)
ALL_ROWS(i8)

/* Returns 0, or -1 when M is out of range (the caller then uses torch). */
int small_m_linear(const float *x, const float *w, float *y, long M, long K, long N, int threads) {
    return linear_f32(x, w, y, M, K, N, threads);
}

/* The same with w (N, K) in bfloat16. */
int small_m_linear_bf16(const float *x, const bf16 *w, float *y, long M, long K, long N, int threads) {
    return linear_bf16(x, w, y, M, K, N, threads);
}

/* The same with w (N, K) in int8: y is x · wᵀ in the int8 units (the caller applies the row scales). */
int small_m_linear_i8(const float *x, const i8 *w, float *y, long M, long K, long N, int threads) {
    return linear_i8(x, w, y, M, K, N, threads);
}

/* Attention for a few queries (a decode step, an MTP verify) over cached keys in any slot order.
 *
 * q (H, T, Dk) and out (H, T, Dv) are contiguous; kv head g's keys are the S rows of Dk floats at
 * k + g * k_stride (values: Dv floats at v + g * v_stride); query head h reads kv head h / (H / KV).
 * pos (S,) holds each key's position (NULL: key j is position j). Query t sits at start + t and sees
 * the keys 0 <= start + t - pos <= window (window < 0: no upper bound). sinks (H) or NULL: a per-head
 * logit that joins the softmax with a zero value. Each (h, t) is computed on its own, in key order, so
 * a query gives bitwise the same output alone or among others; masked keys add exact zeros. */

static inline float dot(const float *a, const float *b, long n) {
    v16 acc = (v16){0};
    long i = 0;
    for (; i + 16 <= n; i += 16) acc += LOAD(a + i) * LOAD(b + i);
    float s = hsum(acc);
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

typedef int vi16 __attribute__((vector_size(64), aligned(4), may_alias));

/* exp(x) for x <= 0, 16 lanes at a time (Cephes' expf: 2^n · polynomial, about 1 ulp); x below -87
 * (masked keys are -inf) gives exactly 0. A fixed sequence of operations, so it is deterministic. */
static inline v16 vexp(v16 x) {
    const v16 lo = (v16){0} - 87.0f;
    vi16 dead = x < lo;                                    /* lanes that underflow: all ones */
    x = (v16)(((vi16)x & ~dead) | ((vi16)lo & dead));      /* clamp them, zero them at the end */
    const v16 magic = (v16){0} + 12582912.0f;              /* 1.5 · 2^23: adding it rounds to an integer */
    v16 n = (x * 1.44269504088896341f + magic) - magic;    /* round(x / ln 2) */
    v16 r = x - n * 0.693359375f + n * 2.12194440e-4f;     /* x - n ln 2, in two parts */
    v16 p = (v16){0} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    vi16 scale = (__builtin_convertvector(n, vi16) + 127) << 23; /* 2^n as float bits */
    return (v16)((vi16)(p * (v16)scale) & ~dead);
}

/* p[j] = exp(p[j] - top), whose sum is returned (added to `total` in key order); -inf gives 0. */
static float exp_shifted(float *p, long S, float top, float total) {
    long j = 0;
    for (; j + 16 <= S; j += 16) {
        v16 e = vexp(LOAD(p + j) - top);
        __builtin_memcpy(p + j, &e, sizeof e);
        for (int i = 0; i < 16; ++i) total += e[i];
    }
    if (j < S) { /* the tail through the same lanes, padded with -inf */
        v16 x = (v16){0} - INFINITY;
        for (long i = j; i < S; ++i) x[i - j] = p[i] - top;
        v16 e = vexp(x);
        for (long i = j; i < S; ++i) total += p[i] = e[i - j];
    }
    return total;
}

#define BLOCK 8 /* query rows that share one pass over their kv head's keys and values */

/* outs[r] (Dv) = sum over keys j of p[r][j] · v row j, for the n <= BLOCK rows of a block: each value
 * row is read once for all of them, 32 columns at a time (n · 2 accumulators in registers), the rest
 * 16 at a time, zero-padded. Every column sums in key order with one multiply-add per key in a vector
 * lane, whichever rows share the block and however many masked keys follow (they add exact zeros): a
 * plain scalar loop here was compiled into sums that depended on the key count. */
static void weighted_sums(const float *p, long S, const float *v, float *const *outs, int n, long Dv) {
    long d = 0;
    for (; d + 32 <= Dv; d += 32) {
        v16 acc[BLOCK][2];
        for (int r = 0; r < n; ++r) acc[r][0] = acc[r][1] = (v16){0};
        for (long j = 0; j < S; ++j) {
            v16 a = LOAD(v + j * Dv + d), b = LOAD(v + j * Dv + d + 16);
            for (int r = 0; r < n; ++r) {
                float w = p[r * S + j];
                acc[r][0] += w * a;
                acc[r][1] += w * b;
            }
        }
        for (int r = 0; r < n; ++r) __builtin_memcpy(outs[r] + d, acc[r], sizeof acc[r]);
    }
    for (; d < Dv; d += 16) { /* the rest 16 columns at a time, the last ones zero-padded */
        long width = Dv - d < 16 ? Dv - d : 16;
        v16 acc[BLOCK];
        for (int r = 0; r < n; ++r) acc[r] = (v16){0};
        for (long j = 0; j < S; ++j) {
            v16 a = (v16){0};
            for (long i = 0; i < width; ++i) a[i] = v[j * Dv + d + i];
            for (int r = 0; r < n; ++r) acc[r] += p[r * S + j] * a;
        }
        for (int r = 0; r < n; ++r)
            for (long i = 0; i < width; ++i) outs[r][d + i] = acc[r][i];
    }
}

/* Rows r < n of one kv head: query qs[r] at position qpos[r], optional sink, output outs[r].
 * scratch: BLOCK * (S + Dk) floats. Returns -1 when a row sees nothing (not for causal queries). */
static int query_block(const float *const *qs, const long *qpos, const float *const *sinks,
                       float *const *outs, int n, const float *k, const float *v, const long *pos,
                       long S, long Dk, long Dv, long window, float scale, float *scratch) {
    float top[BLOCK];
    float *scores = scratch, *rows = scratch + BLOCK * S;
    for (int r = 0; r < n; ++r) {
        top[r] = sinks[r] ? *sinks[r] : -INFINITY;
        for (long d = 0; d < Dk; ++d) rows[r * Dk + d] = qs[r][d];
    }
    /* Every key against the n rows in one pass over K (the matmul above); masked ones are dropped
     * after, so a row's dot products do not depend on which other rows share its block. */
    small_m_linear(rows, k, scores, n, Dk, S, 1);
    for (int r = 0; r < n; ++r) {
        for (long j = 0; j < S; ++j) {
            long rel = qpos[r] - (pos ? pos[j] : j);
            float s = -INFINITY;
            if (rel >= 0 && (window < 0 || rel <= window)) {
                s = scale * scores[r * S + j];
                if (s > top[r]) top[r] = s;
            }
            scores[r * S + j] = s;
        }
    }
    float total[BLOCK];
    for (int r = 0; r < n; ++r) {
        if (top[r] == -INFINITY) return -1;
        total[r] = exp_shifted(scores + r * S, S, top[r], sinks[r] ? expf(*sinks[r] - top[r]) : 0.0f);
    }
    weighted_sums(scores, S, v, outs, n, Dv);
    for (int r = 0; r < n; ++r)
        for (long d = 0; d < Dv; ++d) outs[r][d] /= total[r];
    return 0;
}

/* The attention of few_query_attention with any row layout: query row (h, t) at q + h * q_head +
 * t * q_token, its output at out + h * o_head + t * o_token. */
static int attend_rows(const float *q, long q_head, long q_token, const float *k, long k_stride,
                       const float *v, long v_stride, const long *pos, float *out, long o_head,
                       long o_token, long H, long KV, long T, long S, long Dk, long Dv, long start,
                       long window, const float *sinks, float scale, int threads) {
    long rows = (H / KV) * T;                /* query rows per kv head: its G heads × T tokens */
    long blocks = (rows + BLOCK - 1) / BLOCK; /* per kv head */
    if (threads < 1) threads = 1;
    size_t per_thread = (size_t)BLOCK * (size_t)(S + Dk);
    float *scratch = malloc((size_t)threads * per_thread * sizeof(float)); /* before the team forms */
    if (!scratch) return -1;
    int failed = 0;
    _Pragma("omp parallel num_threads(threads) if(threads > 1) reduction(|:failed)")
    {
        float *scores = scratch + (size_t)omp_get_thread_num() * per_thread;
        _Pragma("omp for schedule(static)")
        for (long b = 0; b < KV * blocks; ++b) {
            long g = b / blocks, first = (b % blocks) * BLOCK;
            int n = (int)(rows - first < BLOCK ? rows - first : BLOCK);
            const float *qs[BLOCK], *row_sinks[BLOCK];
            float *outs[BLOCK];
            long qpos[BLOCK];
            for (int r = 0; r < n; ++r) {
                long i = first + r, h = g * (H / KV) + i / T, t = i % T; /* row i: head h, token t */
                qs[r] = q + h * q_head + t * q_token;
                outs[r] = out + h * o_head + t * o_token;
                qpos[r] = start + t;
                row_sinks[r] = sinks ? sinks + h : 0;
            }
            failed |= query_block(qs, qpos, row_sinks, outs, n, k + g * k_stride, v + g * v_stride,
                                  pos, S, Dk, Dv, window, scale, scores) != 0;
        }
    }
    free(scratch);
    return failed ? -1 : 0;
}

int few_query_attention(const float *q, const float *k, long k_stride, const float *v, long v_stride,
                        const long *pos, float *out, long H, long KV, long T, long S, long Dk, long Dv,
                        long start, long window, const float *sinks, float scale, int threads) {
    return attend_rows(q, T * Dk, Dk, k, k_stride, v, v_stride, pos, out, T * Dv, Dv, H, KV, T, S, Dk,
                       Dv, start, window, sinks, scale, threads);
}

#define THREADED_FROM (1L << 18) /* work (weight elements, query·key·dim products) worth a thread team */

static int weight_linear(const float *x, const void *w, int narrow, float *y, long M, long K, long N,
                         int threads) {
    int t = N * K >= THREADED_FROM ? threads : 1;
    return narrow ? linear_bf16(x, (const bf16 *)w, y, M, K, N, t) : linear_f32(x, (const f32 *)w, y, M, K, N, t);
}

/* NeoX rotary on the first rot dims of one head: pairs (j, j + rot/2) turn by the angle whose cos/sin
 * are cos[j], sin[j] (each table holds its rot/2 angles twice, as the reference builds it). Products
 * and sums are rounded one by one, as torch's ops round them (no fused multiply-add), so the keys a
 * step caches are bitwise the prefill's: a verify that falls back to torch sees the same cache. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("fp-contract=off")))
#endif
static void rotate(float *x, const float *cos, const float *sin, long rot) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
    long half = rot / 2;
    for (long j = 0; j < half; ++j) {
        float a = x[j], b = x[j + half];
        x[j] = a * cos[j] - b * sin[j];
        x[j + half] = b * cos[j + half] + a * sin[j + half];
    }
}

/* A whole attention block for T <= 8 new tokens (a decode step, an MTP verify) in one call: the fused
 * q/k/v projection, partial rotary on q and k, the value scale, the new keys and values stored in the
 * cache, attention over the cache, o_proj. x (T, D) is the normed input, out (T, D) the block's output.
 *
 * wqkv ((H + KV)·Dk + KV·Dv, D) and wo (D, H·Dv) are fp32, or bfloat16 when narrow. cos/sin (T, rot).
 * The cache holds kv head g's keys at kc + g·cap·Dk (values vc + g·cap·Dv), one row per slot; position
 * p goes to slot p % ring (ring > 0), else to slot p. Attention reads slots 0..S-1, whose positions are
 * pos (NULL: slot = position), with the masking, sinks and score scale of few_query_attention. Rows stay
 * independent (every step is per row), so a verify gives bitwise what decoding its rows one by one does.
 * Returns -1 for T out of range, no memory, or a query that sees no key. */
int attention_step(const float *x, long T, long D, const void *wqkv, const void *wo, int narrow,
                   const float *cos, const float *sin, long rot, float *kc, float *vc, long cap, long ring,
                   const long *pos, long S, long H, long KV, long Dk, long Dv, long start, long window,
                   const float *sinks, float scale, float value_scale, float *out, int threads) {
    if (T < 1 || T > 8) return -1;
    long width = (H + KV) * Dk + KV * Dv; /* one token's q, k, v */
    float *qkv = malloc(sizeof(float) * (size_t)(T * width + T * H * Dv));
    if (!qkv) return -1;
    float *attn = qkv + T * width; /* (T, H·Dv): o_proj's input rows */
    weight_linear(x, wqkv, narrow, qkv, T, D, width, threads);
    for (long t = 0; t < T; ++t) {
        float *row = qkv + t * width, *values = row + (H + KV) * Dk;
        for (long h = 0; h < H + KV; ++h) rotate(row + h * Dk, cos + t * rot, sin + t * rot, rot);
        long slot = ring ? (start + t) % ring : start + t;
        for (long g = 0; g < KV; ++g) {
            __builtin_memcpy(kc + (g * cap + slot) * Dk, row + (H + g) * Dk, sizeof(float) * (size_t)Dk);
            for (long d = 0; d < Dv; ++d) vc[(g * cap + slot) * Dv + d] = values[g * Dv + d] * value_scale;
        }
    }
    int threads_attn = H * T * S * Dk >= THREADED_FROM ? threads : 1;
    int failed = attend_rows(qkv, Dk, width, kc, cap * Dk, vc, cap * Dv, pos, attn, Dv, H * Dv, H, KV, T, S,
                             Dk, Dv, start, window, sinks, scale, threads_attn);
    if (!failed) weight_linear(attn, wo, narrow, out, T, H * Dv, D, threads);
    free(qkv);
    return failed;
}

/* RMSNorm of M rows of D: out = x / sqrt(mean(x²) + eps) * weight (the reference's order). */
void rms_norm(const float *x, const float *weight, float *out, long M, long D, float eps) {
    for (long m = 0; m < M; ++m) {
        const float *row = x + m * D;
        float ss = dot(row, row, D);
        float inv = 1.0f / sqrtf(ss / (float)D + eps);
        for (long d = 0; d < D; ++d) out[m * D + d] = (row[d] * inv) * weight[d];
    }
}

/* Mixture of experts for a few rows (a decode step, an MTP verify) in one call: the router (fp32
 * logits, sigmoid, the correction bias only for choosing, top-k, optional renormalisation, scale),
 * then each chosen expert once over the rows that chose it, in expert order, adding
 * scale · down(silu(gate x) · up x) into out. Every row's result depends only on that row (the
 * matmuls are row-independent, and a row's experts are summed in id order whoever shares them), so a
 * verify gives bitwise what plain decoding gives.
 *
 * x (M, D) fp32; router (E, D) fp32; bias (E); gate_up (E, 2I, D) and down (E, D, I) row-major, fp32
 * or (narrow != 0) bfloat16; out (M, D) fp32, overwritten. Returns -1 for M or top_k out of range. */
#define MAX_TOP_K 16

int moe_few(const float *x, long M, long D, const float *router, const float *bias, long E, long top_k,
            int normalise, float scale, const void *gate_up, const void *down, int narrow, long I,
            float *out, int threads) {
    if (M < 1 || M > 8 || top_k < 1 || top_k > MAX_TOP_K || top_k > E) return -1;
    long width = narrow ? 2 : 4;
    float *logits = malloc(sizeof(float) * (size_t)(M * E + 8 * D + 8 * 2 * I + 8 * I + 8 * D));
    if (!logits) return -1;
    float *xs = logits + M * E, *gu = xs + 8 * D, *h = gu + 8 * 2 * I, *y = h + 8 * I;
    long chosen[8][MAX_TOP_K];
    float weight[8][MAX_TOP_K];
    linear_f32(x, router, logits, M, D, E, E * D >= THREADED_FROM ? threads : 1);
    for (long m = 0; m < M; ++m) {
        float *s = logits + m * E;
        for (long e = 0; e < E; ++e) s[e] = 1.0f / (1.0f + expf(-s[e]));
        float total = 0.0f;
        for (long j = 0; j < top_k; ++j) { /* the j-th largest biased score; ties: the lower id */
            long best = -1;
            float top = -INFINITY;
            for (long e = 0; e < E; ++e) {
                int taken = 0;
                for (long i = 0; i < j; ++i) taken |= chosen[m][i] == e;
                if (!taken && (best < 0 || s[e] + bias[e] > top)) best = e, top = s[e] + bias[e];
            }
            chosen[m][j] = best;
            weight[m][j] = s[best];
            total += s[best];
        }
        for (long j = 0; j < top_k; ++j)
            weight[m][j] = (normalise ? weight[m][j] / (total + 1e-20f) : weight[m][j]) * scale;
    }
    for (long i = 0; i < M * D; ++i) out[i] = 0.0f;
    for (long e = 0; e < E; ++e) { /* experts in id order, each once over the rows that chose it */
        long rows[8];
        float w[8];
        long n = 0;
        for (long m = 0; m < M; ++m)
            for (long j = 0; j < top_k; ++j)
                if (chosen[m][j] == e) rows[n] = m, w[n++] = weight[m][j];
        if (!n) continue;
        for (long r = 0; r < n; ++r)
            for (long d = 0; d < D; ++d) xs[r * D + d] = x[rows[r] * D + d];
        weight_linear(xs, (const char *)gate_up + e * 2 * I * D * width, narrow, gu, n, D, 2 * I, threads);
        for (long r = 0; r < n; ++r)
            for (long i = 0; i < I; ++i) {
                float g = gu[r * 2 * I + i];
                h[r * I + i] = g / (1.0f + expf(-g)) * gu[r * 2 * I + I + i];
            }
        weight_linear(h, (const char *)down + e * D * I * width, narrow, y, n, I, D, threads);
        for (long r = 0; r < n; ++r)
            for (long d = 0; d < D; ++d) out[rows[r] * D + d] += y[r * D + d] * w[r];
    }
    free(logits);
    return 0;
}
