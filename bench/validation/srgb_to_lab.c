#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* sRGB (components 0..1, gamma-encoded) -> CIE L*a*b* (D65 white): the piecewise sRGB decoding (linear toe
 * below 0.04045, a 2.4 power above), the sRGB -> XYZ matrix, and the CIE f(t) with its cube-root branch
 * above (6/29)^3 and its linear branch below. Writes L* (0..100), a* and b*.
 *
 * Source: michel-leonard/ciede2000-color-matching, color-converters/rgb-xyz-lab.c (rgb_to_xyz, xyz_to_lab),
 * rewritten as one function with the decoding and f(t) as helpers. */
#include <math.h>

#define WHITE_X 95.047
#define WHITE_Y 100.0
#define WHITE_Z 108.883

static double srgb_decode(double v)
{
    return v > 0.04045 ? pow((v + 0.055) / 1.055, 2.4) : v / 12.92;
}

static double lab_f(double t)
{
    return t > 216.0 / 24389.0 ? cbrt(t) : 841.0 / 108.0 * t + 4.0 / 29.0;
}

#pragma nsc range r 0 1
#pragma nsc range g 0 1
#pragma nsc range b 0 1
void srgb_to_lab(double r, double g, double b, double lab[3])
{
    double rl = srgb_decode(r), gl = srgb_decode(g), bl = srgb_decode(b);
    double x = 41.24564 * rl + 35.75761 * gl + 18.04375 * bl;
    double y = 21.26729 * rl + 71.51522 * gl + 7.21750 * bl;
    double z = 1.93339 * rl + 11.91920 * gl + 95.03041 * bl;
    double fx = lab_f(x / WHITE_X), fy = lab_f(y / WHITE_Y), fz = lab_f(z / WHITE_Z);

    lab[0] = 116.0 * fy - 16.0;
    lab[1] = 500.0 * (fx - fy);
    lab[2] = 200.0 * (fy - fz);
}
