/*
 * Kepler's equation E - e sin E = M, solved by Newton's method with a fixed number of iterations.
 *
 * Orbit propagation code calls this for every body and every time step: mean anomaly M (radians) and
 * eccentricity e in, eccentric anomaly E out (the return value) and the true anomaly through a pointer.
 * A fixed iteration count keeps the run time constant; twelve iterations converge to double precision
 * for e <= 0.9 from the starting guesses below.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define NEWTON_ITERATIONS 12
/* Above this eccentricity, E0 = M converges badly near perihelion; E0 = pi is safe (Danby 1987). */
#define HIGH_ECCENTRICITY 0.8

#pragma nsc range mean_anomaly 0 6.283185307179586
#pragma nsc range eccentricity 0 0.9
#pragma nsc surrogate
double kepler_solve(double mean_anomaly, double eccentricity, double *true_anomaly)
{
    double e = eccentricity;
    double E = e < HIGH_ECCENTRICITY ? mean_anomaly : M_PI;
    int i;

    for (i = 0; i < NEWTON_ITERATIONS; i++) {
        double f = E - e * sin(E) - mean_anomaly;
        double df = 1.0 - e * cos(E);
        E -= f / df;
    }

    *true_anomaly = 2.0 * atan2(sqrt(1.0 + e) * sin(0.5 * E), sqrt(1.0 - e) * cos(0.5 * E));
    return E;
}
