#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Colour difference of two CIE L*a*b* colours by the CIEDE2000 formula (k_L = k_C = k_H = 1): the a*
 * rescaling by 1 + G, hue angles in [0, 2 pi) with the wrap-around branch for the hue difference and the
 * mean hue, the lightness, chroma and hue weights, and the rotation term R_T. Returns Delta-E00.
 *
 * Source: michel-leonard/ciede2000-color-matching, ciede-2000.c (ciede_2000_1: the folded radian form,
 * with 25^7 = 6103515625), rewritten; checked against test pairs of Sharma, Wu and Dalal, "The CIEDE2000
 * colour-difference formula: implementation notes..." (Color Res. Appl. 30, 2005). */
#include <math.h>

#define POW25_7 6103515625.0

#pragma nsc range l1 0 100
#pragma nsc range a1 -80 80
#pragma nsc range b1 -80 80
#pragma nsc range l2 0 100
#pragma nsc range a2 -80 80
#pragma nsc range b2 -80 80
double ciede2000(double l1, double a1, double b1, double l2, double a2, double b2)
{
    double n = pow(0.5 * (hypot(a1, b1) + hypot(a2, b2)), 7.0);
    double g = 1.0 + 0.5 * (1.0 - sqrt(n / (n + POW25_7)));
    double c1 = hypot(a1 * g, b1), c2 = hypot(a2 * g, b2);
    double h1 = atan2(b1, a1 * g), h2 = atan2(b2, a2 * g);
    double h_mean, h_half, p, r_t, lm, l, t, h, c;

    if (h1 < 0.0)
        h1 += 2.0 * M_PI;
    if (h2 < 0.0)
        h2 += 2.0 * M_PI;
    h_mean = 0.5 * (h1 + h2);
    h_half = 0.5 * (h2 - h1);
    if (fabs(h2 - h1) > M_PI) { /* the hues lie across 0: the short way round */
        h_half += h_half > 0.0 ? -M_PI : M_PI;
        h_mean += M_PI;
    }
    p = 36.0 * h_mean - 55.0 * M_PI;
    n = pow(0.5 * (c1 + c2), 7.0);
    r_t = -2.0 * sqrt(n / (n + POW25_7)) * sin(M_PI / 3.0 * exp(p * p / (-25.0 * M_PI * M_PI)));
    lm = (0.5 * (l1 + l2) - 50.0) * (0.5 * (l1 + l2) - 50.0);
    l = (l2 - l1) / (1.0 + 0.015 * lm / sqrt(20.0 + lm));
    t = 1.0 + 0.24 * sin(2.0 * h_mean + M_PI / 2.0) + 0.32 * sin(3.0 * h_mean + 8.0 * M_PI / 15.0)
        - 0.17 * sin(h_mean + M_PI / 3.0) - 0.20 * sin(4.0 * h_mean + 3.0 * M_PI / 20.0);
    h = 2.0 * sqrt(c1 * c2) * sin(h_half) / (1.0 + 0.0075 * (c1 + c2) * t);
    c = (c2 - c1) / (1.0 + 0.0225 * (c1 + c2));

    return sqrt(l * l + h * h + c * c + c * h * r_t);
}
