#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Linear water waves: the dispersion relation  omega^2 = g k tanh(k h)  is solved for the wavenumber k of a
 * wave of period T in water of depth h, by 60 bisection steps on y = k h in y tanh(y) = omega^2 h / g.
 * Returns the wavelength (m) and writes the phase speed and the group speed (m/s).
 *
 * Source: dnowacki-usgs/djnpy, wavenumber.py (the same equation in the dimensionless form a0 = y tanh(y),
 * solved there by Newton's method after R. Dalrymple's code); here by bisection on a bracket that always
 * holds the root (y tanh y < y, and tanh y >= tanh 1 above y = 1). */
#include <math.h>

#define GRAVITY 9.81
#define BISECTIONS 60

#pragma nsc range period_s 2 20
#pragma nsc range depth_m 1 100
double wave_dispersion(double period_s, double depth_m, double *phase_speed, double *group_speed)
{
    double omega = 2.0 * M_PI / period_s;
    double a0 = omega * omega * depth_m / GRAVITY;
    double lo = 0.0, hi = (a0 > 1.0 ? 2.0 * a0 : 2.0 * sqrt(a0)) + 1.0;
    double y, k, c;
    int i;

    for (i = 0; i < BISECTIONS; i++) {
        double mid = 0.5 * (lo + hi);
        if (mid * tanh(mid) < a0)
            lo = mid;
        else
            hi = mid;
    }
    y = 0.5 * (lo + hi);
    k = y / depth_m;
    c = omega / k;
    *phase_speed = c;
    *group_speed = 0.5 * c * (1.0 + 2.0 * y / sinh(2.0 * y));
    return 2.0 * M_PI / k;
}
