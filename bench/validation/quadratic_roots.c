#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Roots of a x^2 + b x + c = 0 (a > 0): writes the real part and the absolute imaginary part of the
 * larger root, using the numerically stable form for real roots. */
#include <math.h>

#pragma nsc range a 0.5 2
#pragma nsc range b -4 4
#pragma nsc range c -3 3
void quadratic_root(double a, double b, double c, double *real_part, double *imag_part)
{
    double disc = b * b - 4.0 * a * c;
    if (disc >= 0.0) {
        double q = -0.5 * (b + (b >= 0.0 ? sqrt(disc) : -sqrt(disc)));
        double r1 = q / a;
        double r2 = q != 0.0 ? c / q : 0.0;
        *real_part = r1 > r2 ? r1 : r2;
        *imag_part = 0.0;
    } else {
        *real_part = -b / (2.0 * a);
        *imag_part = sqrt(-disc) / (2.0 * a);
    }
}
