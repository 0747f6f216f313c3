#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Darcy-Weisbach friction factor of flow in a round pipe. Laminar flow (Re < 2300): f = 64 / Re. Otherwise
 * the Colebrook-White equation  1/sqrt(f) = -2 log10(k/3.7 + 2.51 / (Re sqrt(f)))  is solved for
 * x = 1/sqrt(f) by Newton's method until the step falls below 1e-10 (at most 50 steps). The Reynolds number
 * is given by its decimal logarithm, as on a Moody chart; k is the relative roughness (roughness / diameter).
 *
 * Source: mariocastrogama/Colebrook-White, fdarcynewton.m (laminar branch, Newton-Raphson on x with
 * delta = (F(x) - x) / (F'(x) - 1)), rewritten in C with a bounded iteration count and a start at x = 8. */
#include <math.h>

#define LAMINAR_LIMIT 2300.0
#define TOLERANCE 1e-10
#define MAX_ITERATIONS 50

#pragma nsc range log10_reynolds 3 7
#pragma nsc range relative_roughness 0 0.05
double colebrook_friction(double log10_reynolds, double relative_roughness)
{
    double reynolds = pow(10.0, log10_reynolds);
    double a = relative_roughness / 3.7, b = 2.51 / reynolds;
    double x = 8.0, delta = 1.0;
    int iteration = 0;

    if (reynolds < LAMINAR_LIMIT)
        return 64.0 / reynolds;

    while (fabs(delta) > TOLERANCE && iteration < MAX_ITERATIONS) {
        double fx = -2.0 * log10(a + b * x);
        double dfx = -2.0 / log(10.0) * b / (a + b * x);
        delta = (fx - x) / (dfx - 1.0);
        x -= delta;
        iteration++;
    }
    return 1.0 / (x * x);
}
