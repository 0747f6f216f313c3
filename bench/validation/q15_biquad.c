#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Fixed-point audio filtering as on a Cortex-M: a block of 6 samples is converted to Q15 (rounded, times an
 * input gain of 2^gain_shift, saturated to 16 bits) and run through a second-order Butterworth low-pass
 * (cut-off 0.1 of the sample rate) in direct form I with Q14 coefficients (post-shift 1), a 64-bit
 * accumulator shifted right by 14 and saturated to 16 bits, from a zero state. Returns the last output
 * sample and writes the largest output magnitude, both converted back to doubles (full scale 1).
 *
 * Sources: ARM-software/CMSIS-DSP, Source/FilteringFunctions/arm_biquad_cascade_df1_q15.c (the recurrence
 * acc = b0 x[n] + b1 x[n-1] + b2 x[n-2] + a1 y[n-1] + a2 y[n-2], the shift by 15 - postShift and __SSAT to
 * 16 bits), and Merito-Chorzow/ex04-compute-c-mike9pl, src/q15.h (f2q15, sat16), rewritten as plain C. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define SAMPLES 6
#define POST_SHIFT 1

/* b0, b1, b2, a1, a2 in Q14 (CMSIS sign convention: a1, a2 are added) */
static const int16_t COEFFS[5] = {1105, 2210, 1105, 18727, -6763};

static int32_t saturate16(int64_t v)
{
    return v > 32767 ? 32767 : (v < -32768 ? -32768 : (int32_t)v);
}

#pragma nsc range x -1 1
#pragma nsc range gain_shift 0 2
double q15_biquad(const double x[SAMPLES], int gain_shift, double *peak)
{
    int32_t x1 = 0, x2 = 0, y1 = 0, y2 = 0, y = 0, top = 0;
    int i;

    for (i = 0; i < SAMPLES; i++) {
        int64_t scaled = (int64_t)floor(x[i] * 32768.0 + 0.5) * ((int64_t)1 << gain_shift);
        int32_t x0 = saturate16(scaled);
        int64_t acc = (int64_t)COEFFS[0] * x0 + (int64_t)COEFFS[1] * x1 + (int64_t)COEFFS[2] * x2
                      + (int64_t)COEFFS[3] * y1 + (int64_t)COEFFS[4] * y2;
        y = saturate16(acc >> (15 - POST_SHIFT));
        x2 = x1;
        x1 = x0;
        y2 = y1;
        y1 = y;
        if (abs(y) > top)
            top = abs(y);
    }
    *peak = top / 32768.0;
    return y / 32768.0;
}
