#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Methane under the Peng-Robinson equation of state: the compressibility factor Z is the largest root of
 *   Z^3 - (1 - B) Z^2 + (A - 2B - 3B^2) Z - (AB - B^2 - B^3) = 0,
 * found by Newton's method from the ideal-gas value Z = 1 until the step falls below 1e-12 (at most 100
 * steps). Returns Z and writes the fugacity coefficient and the density (kg/m^3). The temperature range
 * starts just above methane's critical point (190.56 K, 45.99 bar), where Z drops steeply with pressure.
 *
 * Source: CorySimon/PREOS, PREOS.py (the cubic in Z, the Newton solve started at Z = 1, and the fugacity
 * coefficient), rewritten in C with an explicit Newton loop. */
#include <math.h>

#define T_CRITICAL 190.56 /* K */
#define P_CRITICAL 45.99  /* bar */
#define ACENTRIC 0.011
#define R_GAS 8.314e-5 /* m^3 bar / (K mol) */
#define MOLAR_MASS 0.01604 /* kg/mol */
#define TOLERANCE 1e-12
#define MAX_ITERATIONS 100

#pragma nsc range temperature_k 200 400
#pragma nsc range pressure_bar 1 150
double peng_robinson_z(double temperature_k, double pressure_bar, double *fugacity_coefficient, double *density)
{
    double kappa = 0.37464 + 1.54226 * ACENTRIC - 0.26992 * ACENTRIC * ACENTRIC;
    double a = 0.45724 * R_GAS * R_GAS * T_CRITICAL * T_CRITICAL / P_CRITICAL;
    double b = 0.07780 * R_GAS * T_CRITICAL / P_CRITICAL;
    double root = 1.0 + kappa * (1.0 - sqrt(temperature_k / T_CRITICAL));
    double A = a * root * root * pressure_bar / (R_GAS * R_GAS * temperature_k * temperature_k);
    double B = b * pressure_bar / (R_GAS * temperature_k);
    double c2 = -(1.0 - B), c1 = A - 2.0 * B - 3.0 * B * B, c0 = -(A * B - B * B - B * B * B);
    double z = 1.0, step = 1.0;
    int iteration = 0;

    while (fabs(step) > TOLERANCE && iteration < MAX_ITERATIONS) {
        double g = ((z + c2) * z + c1) * z + c0;
        double dg = (3.0 * z + 2.0 * c2) * z + c1;
        step = g / dg;
        z -= step;
        iteration++;
    }

    *fugacity_coefficient = exp(z - 1.0 - log(z - B)
                                - A / (2.0 * M_SQRT2 * B) * log((z + (1.0 + M_SQRT2) * B) / (z + (1.0 - M_SQRT2) * B)));
    *density = pressure_bar * MOLAR_MASS / (z * R_GAS * temperature_k);
    return z;
}
