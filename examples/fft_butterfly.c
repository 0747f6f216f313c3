/*
 * One radix-2 decimation-in-time FFT butterfly with its twiddle factor (AxBench "fft").
 *
 * AxBench approximates the twiddle computation sin/cos(-2 pi k / N); here the region is the whole
 * butterfly: given inputs a and b (complex) and the fraction k / N, it returns a + w b and a - w b with
 * w = exp(-2 pi i k / N), as out = {re(a + wb), im(a + wb), re(a - wb), im(a - wb)}.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define TWO_PI 6.28318530717958647692f

static void twiddle(float fraction, float *w_re, float *w_im)
{
    float angle = -TWO_PI * fraction;
    *w_re = cosf(angle);
    *w_im = sinf(angle);
}

#pragma nsc range a_re -1 1
#pragma nsc range a_im -1 1
#pragma nsc range b_re -1 1
#pragma nsc range b_im -1 1
#pragma nsc range fraction 0 0.5
#pragma nsc surrogate
void fft_butterfly(float a_re, float a_im, float b_re, float b_im, float fraction, float out[4])
{
    float w_re, w_im;
    twiddle(fraction, &w_re, &w_im);

    float t_re = w_re * b_re - w_im * b_im;
    float t_im = w_re * b_im + w_im * b_re;
    out[0] = a_re + t_re;
    out[1] = a_im + t_im;
    out[2] = a_re - t_re;
    out[3] = a_im - t_im;
}
