/*
 * Black-Scholes price of a European call option.
 *
 * The approximable kernel of the PARSEC / AxBench "blackscholes" benchmark (also one of Parrot's regions):
 * five market parameters in, one price out.  The normal CDF uses the Abramowitz & Stegun 26.2.17 polynomial
 * (absolute error below 7.5e-8), exactly as the benchmark does, instead of erf().
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define INV_SQRT_2PI 0.39894228040143267794
#define CNDF_P 0.2316419

/* Polynomial coefficients b1..b5 of Abramowitz & Stegun 26.2.17. */
static const double cndf_coeff[5] = {
    0.319381530, -0.356563782, 1.781477937, -1.821255978, 1.330274429,
};

/* Standard normal cumulative distribution function N(x). */
static double cndf(double x)
{
    int negative = x < 0.0;
    double ax = fabs(x);
    double k = 1.0 / (1.0 + CNDF_P * ax);
    double poly = k * (cndf_coeff[0]
                  + k * (cndf_coeff[1]
                  + k * (cndf_coeff[2]
                  + k * (cndf_coeff[3]
                  + k * cndf_coeff[4]))));
    double n = 1.0 - INV_SQRT_2PI * exp(-0.5 * ax * ax) * poly;
    return negative ? 1.0 - n : n;
}

#pragma nsc range spot 50 150
#pragma nsc range strike 50 150
#pragma nsc range rate 0.005 0.1
#pragma nsc range volatility 0.1 0.6
#pragma nsc range time 0.1 2.0
#pragma nsc surrogate
double black_scholes_call(double spot, double strike, double rate, double volatility, double time)
{
    double sqrt_t = sqrt(time);
    double vol_sqrt_t = volatility * sqrt_t;
    double d1 = (log(spot / strike) + (rate + 0.5 * volatility * volatility) * time) / vol_sqrt_t;
    double d2 = d1 - vol_sqrt_t;
    double discount = exp(-rate * time);
    return spot * cndf(d1) - strike * discount * cndf(d2);
}
