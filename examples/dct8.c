/*
 * Orthonormal 8-point DCT-II, the 1-D transform inside the JPEG encoder (AxBench "jpeg").
 *
 * Input: one row of eight level-shifted pixels (-128..127).  Output: eight coefficients,
 * out[k] = c(k) * sum_n x[n] cos((2n + 1) k pi / 16) with c(0) = sqrt(1/8), c(k) = sqrt(2/8) otherwise.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define DCT_N 8

#pragma nsc range x -128 127
#pragma nsc surrogate
void dct8(const double x[DCT_N], double out[DCT_N])
{
    int k, n;
    for (k = 0; k < DCT_N; k++) {
        double scale = k == 0 ? sqrt(1.0 / DCT_N) : sqrt(2.0 / DCT_N);
        double sum = 0.0;
        for (n = 0; n < DCT_N; n++)
            sum += x[n] * cos((2 * n + 1) * k * M_PI / (2.0 * DCT_N));
        out[k] = scale * sum;
    }
}
