"""The fixed C of an emitted surrogate: SIMD helpers, exp, the activations, and the dense-layer kernels.

`kernels(widths)` returns C99 text that defines, for each vector width W in `widths` (1: plain scalar C99;
4: 16-byte GNU vectors, SSE2 or NEON; 8: 32-byte GNU vectors under `target("avx2,fma")`), one clone of:

    nsc_forward_block_wW(net, x, y)   B = 2W rows at once: x [B][n_in] -> y [B][n_out], row-major
    nsc_forward_row_wW(net, x, y)     one row
    nsc_batch_wW(net, x, y, n)        n rows: blocks of B, then single rows

A network (`struct nsc_net`, defined in the common part) is a table of dense layers with the input map
u = (x - shift) * rscale; every layer's weights are stored transposed, w[i][o] with o padded to a multiple of 8
(zeros), so one layout serves both kernels: the block kernel keeps 4 outputs x B rows in 8 vector accumulators
and broadcasts 4 weights per input (the register blocking a BLAS micro-kernel uses); the row kernel keeps 8
vectors of outputs and broadcasts one input. Activations act on the accumulators before they are stored:
NSC_LINEAR, NSC_RELU, NSC_SILU (z / (1 + exp(-z))), NSC_TANH, NSC_FLOOR (max(z, floor) per unit).

exp is Cephes' expf polynomial after the usual range reduction (relative error ~1e-7 on [-87, 88], beyond which
the argument is clamped), written branch-free so it vectorises: libm's expf would not at -O2, and onnxruntime's
own Sigmoid and Tanh are approximations of this kind too. tanh uses its odd Taylor series below |z| = 0.25
(where 1 - 2 / (exp(2z) + 1) would cancel) and that formula above.

The caller (nsc/emit/c_source.py) adds the model's arrays, its nets, and the public functions that pick a clone.
"""

from __future__ import annotations

COMMON = r"""
#define NSC_LINEAR 0
#define NSC_RELU 1
#define NSC_SILU 2
#define NSC_TANH 3
#define NSC_FLOOR 4

struct nsc_layer {
    const float *w;      /* [fan_in rounded up to 8][fan_out_padded], transposed */
    const float *b;      /* [fan_out_padded] */
    const float *floor;  /* [fan_out_padded] for NSC_FLOOR, else 0 */
    int fan_in;          /* the units of the layer before, rounded up to 4: what the block kernel wrote */
    int fan_out4;        /* the units, rounded up to 4: what the block kernel computes */
    int fan_out_padded;  /* ... rounded up to 8: what the row kernel computes (zeros beyond the units) */
    int act;
};

struct nsc_net {
    int n_in, n_out, n_layers;
    const float *shift, *rscale;   /* u = (x - shift) * rscale */
    const struct nsc_layer *layers;
};
"""

# One clone; @W@ lanes per vector, @B@ = 2W rows per block, @V@/@I@ the float/int vector types, @S@ the suffix,
# @A@ the function attributes. Helpers are `static inline` so each clone inlines its own.
CLONE = r"""
static inline @A@ @V@ nsc_splat@S@(float x) { return NSC_SPLAT@W@(x); }
static inline @A@ @V@ nsc_load@S@(const float *p) { @V@ v; memcpy(&v, p, sizeof v); return v; }
static inline @A@ void nsc_store@S@(float *p, @V@ v) { memcpy(p, &v, sizeof v); }
static inline @A@ @V@ nsc_select@S@(@M@ m, @V@ a, @V@ b) { return NSC_SELECT@W@(m, a, b); }

static inline @A@ @V@ nsc_exp@S@(@V@ x)
{
    const @V@ lo = nsc_splat@S@(-87.0f), hi = nsc_splat@S@(88.0f);
    @V@ t, n, r, p;
    @M@ k;
    x = nsc_select@S@(x < lo, lo, x);
    x = nsc_select@S@(x > hi, hi, x);
    t = x * nsc_splat@S@(1.44269504088896341f);
#ifdef __FAST_MATH__  /* which may drop (t + magic) - magic: round half away from 0 by a conversion */
    k = NSC_TOINT@W@(t + nsc_select@S@(t < nsc_splat@S@(0.0f), nsc_splat@S@(-0.5f), nsc_splat@S@(0.5f)));
#else
    k = NSC_BITS@W@(t + nsc_splat@S@(12582912.0f)) - NSC_BITS@W@(nsc_splat@S@(12582912.0f));  /* t rounded to
                                                         nearest: the low bits of t + 1.5 * 2^23 */
#endif
    n = NSC_TOFLOAT@W@(k);
    r = x - n * nsc_splat@S@(0.693359375f);
    r = r + n * nsc_splat@S@(2.12194440e-4f);
    p = r * nsc_splat@S@(1.9875691500e-4f) + nsc_splat@S@(1.3981999507e-3f);
    p = p * r + nsc_splat@S@(8.3334519073e-3f);
    p = p * r + nsc_splat@S@(4.1665795894e-2f);
    p = p * r + nsc_splat@S@(1.6666665459e-1f);
    p = p * r + nsc_splat@S@(5.0000001201e-1f);
    p = p * r * r + r + nsc_splat@S@(1.0f);
    return p * NSC_POW2@W@(k);  /* k in [-126, 127]: 2^k is a normal float */
}

static inline @A@ @V@ nsc_tanh@S@(@V@ z)
{
    const @V@ zero = nsc_splat@S@(0.0f), one = nsc_splat@S@(1.0f);
    @V@ t = nsc_select@S@(z < zero, -z, z), t2 = t * t, small, big;
    small = t2 * nsc_splat@S@(-1382.0f / 155925.0f) + nsc_splat@S@(62.0f / 2835.0f);
    small = small * t2 + nsc_splat@S@(-17.0f / 315.0f);
    small = small * t2 + nsc_splat@S@(2.0f / 15.0f);
    small = small * t2 + nsc_splat@S@(-1.0f / 3.0f);
    small = small * t2 * t + t;
    big = one - nsc_splat@S@(2.0f) / (nsc_exp@S@(t + t) + one);
    t = nsc_select@S@(t < nsc_splat@S@(0.25f), small, big);
    return nsc_select@S@(z < zero, -t, t);
}

/* f: the units' floors (NSC_FLOOR only) */
static inline @A@ @V@ nsc_activate@S@(@V@ z, int act, @V@ f)
{
    const @V@ zero = nsc_splat@S@(0.0f);
    switch (act) {
    case NSC_RELU: return nsc_select@S@(z > zero, z, zero);
    case NSC_SILU: return z / (nsc_splat@S@(1.0f) + nsc_exp@S@(-z));
    case NSC_TANH: return nsc_tanh@S@(z);
    case NSC_FLOOR: return nsc_select@S@(z > f, z, f);
    default: return z;
    }
}

/* in [fan_in][B] -> out [fan_out4][B]: 4 outputs x B rows per pass, in 8 accumulators */
static @A@ void nsc_dense_block@S@(const struct nsc_layer *L, const float *in, float *out)
{
    int o, i, k;
    for (o = 0; o < L->fan_out4; o += 4) {
        const float *w = L->w + o, *h = in;
        @V@ a[4][2];
        for (k = 0; k < 4; k++)
            a[k][0] = a[k][1] = nsc_splat@S@(L->b[o + k]);
        for (i = 0; i < L->fan_in; i++, w += L->fan_out_padded, h += @B@) {
            const @V@ h0 = nsc_load@S@(h), h1 = nsc_load@S@(h + @W@);
            const @V@ w0 = nsc_splat@S@(w[0]), w1 = nsc_splat@S@(w[1]), w2 = nsc_splat@S@(w[2]),
                      w3 = nsc_splat@S@(w[3]);
            a[0][0] += w0 * h0; a[0][1] += w0 * h1;
            a[1][0] += w1 * h0; a[1][1] += w1 * h1;
            a[2][0] += w2 * h0; a[2][1] += w2 * h1;
            a[3][0] += w3 * h0; a[3][1] += w3 * h1;
        }
        for (k = 0; k < 4; k++) {
            const @V@ f = nsc_splat@S@(L->floor ? L->floor[o + k] : 0.0f);
            nsc_store@S@(out + (o + k) * @B@, nsc_activate@S@(a[k][0], L->act, f));
            nsc_store@S@(out + (o + k) * @B@ + @W@, nsc_activate@S@(a[k][1], L->act, f));
        }
    }
}

/* in [fan_in] -> out [fan_out_padded]: 8 vectors of outputs per pass, then one at a time */
static @A@ void nsc_dense_row@S@(const struct nsc_layer *L, const float *in, float *out)
{
    const int n = L->fan_out_padded;
    int o = 0, i, k;
    for (; o + 8 * @W@ <= n; o += 8 * @W@) {
        @V@ a[8];
        for (k = 0; k < 8; k++) a[k] = nsc_load@S@(L->b + o + k * @W@);
        for (i = 0; i < L->fan_in; i++) {
            const float *w = L->w + (long)i * n + o;
            const @V@ h = nsc_splat@S@(in[i]);
            for (k = 0; k < 8; k++) a[k] += nsc_load@S@(w + k * @W@) * h;
        }
        for (k = 0; k < 8; k++)
            nsc_store@S@(out + o + k * @W@, nsc_activate@S@(a[k], L->act,
                          L->floor ? nsc_load@S@(L->floor + o + k * @W@) : a[k]));
    }
    for (; o < n; o += @W@) {  /* one vector of outputs: four partial sums, not one chain of FMA latencies */
        @V@ a[4];
        a[0] = nsc_load@S@(L->b + o);
        a[1] = a[2] = a[3] = nsc_splat@S@(0.0f);
        for (i = 0; i < L->fan_in; i++) a[i & 3] += nsc_load@S@(L->w + (long)i * n + o) * nsc_splat@S@(in[i]);
        a[0] = (a[0] + a[1]) + (a[2] + a[3]);
        nsc_store@S@(out + o, nsc_activate@S@(a[0], L->act, L->floor ? nsc_load@S@(L->floor + o) : a[0]));
    }
}

static @A@ void nsc_forward_block@S@(const struct nsc_net *net, const float *x, float *y)
{
    float buf[2][NSC_MAX_WIDTH * @B@];
    float *in = buf[0], *out = buf[1], *t;
    int r, i, l;
    for (r = 0; r < @B@; r++)  /* rows -> columns, with the input map */
        for (i = 0; i < net->n_in; i++)
            in[i * @B@ + r] = (x[r * net->n_in + i] - net->shift[i]) * net->rscale[i];
    for (l = 0; l < net->n_layers; l++) {
        nsc_dense_block@S@(&net->layers[l], in, out);
        t = in; in = out; out = t;
    }
    for (r = 0; r < @B@; r++)
        for (i = 0; i < net->n_out; i++)
            y[r * net->n_out + i] = in[i * @B@ + r];
}

static @A@ void nsc_forward_row@S@(const struct nsc_net *net, const float *x, float *y)
{
    float buf[2][NSC_MAX_WIDTH];
    float *in = buf[0], *out = buf[1], *t;
    int i, l;
    for (i = 0; i < net->n_in; i++) in[i] = (x[i] - net->shift[i]) * net->rscale[i];
    for (l = 0; l < net->n_layers; l++) {
        nsc_dense_row@S@(&net->layers[l], in, out);
        t = in; in = out; out = t;
    }
    for (i = 0; i < net->n_out; i++) y[i] = in[i];
}

static @A@ void nsc_batch@S@(const struct nsc_net *net, const float *x, float *y, size_t n)
{
    size_t k = 0;
    for (; k + @B@ <= n; k += @B@) nsc_forward_block@S@(net, x + k * net->n_in, y + k * net->n_out);
    for (; k < n; k++) nsc_forward_row@S@(net, x + k * net->n_in, y + k * net->n_out);
}
"""

# How each width spells its vector types and operations. Width 1 is plain C99 (a float is a vector of one);
# masks are what a comparison gives (int, or a vector of 0 / -1).
TYPES = {
    1: ("float", "int", r"""
static inline int nsc_bits1(float f)
{
    int bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}
static inline float nsc_pow2_1(int k)
{
    unsigned bits = (unsigned)(k + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
#define NSC_SPLAT1(x) (x)
#define NSC_SELECT1(m, a, b) ((m) ? (a) : (b))
#define NSC_TOINT1(v) ((int)(v))
#define NSC_BITS1(v) nsc_bits1(v)
#define NSC_TOFLOAT1(k) ((float)(k))
#define NSC_POW2_1(k) nsc_pow2_1(k)
"""),
    4: ("nsc_v4", "nsc_i4", r"""
typedef float nsc_v4 __attribute__((vector_size(16)));
typedef int nsc_i4 __attribute__((vector_size(16)));
typedef unsigned nsc_u4 __attribute__((vector_size(16)));
#define NSC_SPLAT4(x) ((nsc_v4){(x), (x), (x), (x)})  /* (not 0 + x: that adds) */
#define NSC_SELECT4(m, a, b) ((nsc_v4)(((nsc_i4)(a) & (m)) | ((nsc_i4)(b) & ~(m))))
#define NSC_TOINT4(v) __builtin_convertvector(v, nsc_i4)
#define NSC_BITS4(v) ((nsc_i4)(v))
#define NSC_TOFLOAT4(k) __builtin_convertvector(k, nsc_v4)
#define NSC_POW2_4(k) ((nsc_v4)(((nsc_u4)(k) + 127u) << 23))
"""),
    8: ("nsc_v8", "nsc_i8", r"""
typedef float nsc_v8 __attribute__((vector_size(32)));
typedef int nsc_i8 __attribute__((vector_size(32)));
typedef unsigned nsc_u8 __attribute__((vector_size(32)));
#define NSC_SPLAT8(x) ((nsc_v8){(x), (x), (x), (x), (x), (x), (x), (x)})
#define NSC_SELECT8(m, a, b) ((nsc_v8)(((nsc_i8)(a) & (m)) | ((nsc_i8)(b) & ~(m))))
#define NSC_TOINT8(v) __builtin_convertvector(v, nsc_i8)
#define NSC_BITS8(v) ((nsc_i8)(v))
#define NSC_TOFLOAT8(k) __builtin_convertvector(k, nsc_v8)
#define NSC_POW2_8(k) ((nsc_v8)(((nsc_u8)(k) + 127u) << 23))
"""),
}
ATTRIBUTES = {1: "", 4: "", 8: '__attribute__((target("avx2,fma")))'}


def clone(width: int) -> str:
    """The C of one clone (its types' definitions first)."""
    vector, mask, types = TYPES[width]
    text = CLONE.replace("NSC_POW2@W@", "NSC_POW2_@W@")
    for key, value in (("@S@", f"_w{width}"), ("@V@", vector), ("@M@", mask), ("@W@", str(width)),
                       ("@B@", str(2 * width)), ("@A@", ATTRIBUTES[width])):
        text = text.replace(key, value)
    return types + text
