/*
 * 4-tap FIR low-pass filter over a block of 8 samples ("valid" part only: 5 outputs).
 *
 * The inner loop of DSP code on audio or sensor blocks: y[n] = sum_k taps[k] * x[n + N_TAPS - 1 - k],
 * i.e. a causal convolution, evaluated where the whole filter overlaps the block.  Array in, array out.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#define N_TAPS 4
#define BLOCK 8
#define N_OUT (BLOCK - N_TAPS + 1)

typedef float sample_t;

/* Asymmetric taps (unity DC gain): newest sample weighted most. */
static const sample_t taps[N_TAPS] = {0.4f, 0.3f, 0.2f, 0.1f};

#pragma nsc range x -1 1
#pragma nsc surrogate
void fir_filter(const sample_t x[BLOCK], sample_t y[N_OUT])
{
    int n, k;
    for (n = 0; n < N_OUT; n++) {
        sample_t acc = 0.0f;
        for (k = 0; k < N_TAPS; k++)
            acc += taps[k] * x[n + N_TAPS - 1 - k];
        y[n] = acc;
    }
}
