#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* First-order RC low-pass filter run over a block of 16 input samples (exponential smoothing with
 * alpha = dt / (RC + dt)); writes the final output and the peak output. */
#define N 16

#pragma nsc range x -1 1
#pragma nsc range rc 0.001 0.05
void rc_lowpass(const double x[N], double rc, double *last, double *peak)
{
    const double dt = 0.005;
    double alpha = dt / (rc + dt);
    double y = 0.0, top = -1e300;
    int i;

    for (i = 0; i < N; i++) {
        y += alpha * (x[i] - y);
        if (y > top)
            top = y;
    }
    *last = y;
    *peak = top;
}
