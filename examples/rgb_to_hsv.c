/*
 * RGB -> HSV colour space conversion (channels in [0, 1]).
 *
 * Hue in degrees [0, 360), saturation and value in [0, 1], written to hsv[0..2].  The branchy textbook
 * formulation: which channel is the maximum decides the hue sector.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#define DEGREES_PER_SECTOR 60.0
#define GREY_EPSILON 1e-12

static double max3(double a, double b, double c)
{
    double m = a > b ? a : b;
    return m > c ? m : c;
}

static double min3(double a, double b, double c)
{
    double m = a < b ? a : b;
    return m < c ? m : c;
}

#pragma nsc range r 0 1
#pragma nsc range g 0 1
#pragma nsc range b 0 1
#pragma nsc surrogate
void rgb_to_hsv(double r, double g, double b, double hsv[3])
{
    double max = max3(r, g, b);
    double min = min3(r, g, b);
    double delta = max - min;
    double hue;

    if (delta < GREY_EPSILON)
        hue = 0.0; /* grey: hue is undefined, use 0 by convention */
    else if (max == r)
        hue = DEGREES_PER_SECTOR * ((g - b) / delta);
    else if (max == g)
        hue = DEGREES_PER_SECTOR * ((b - r) / delta + 2.0);
    else
        hue = DEGREES_PER_SECTOR * ((r - g) / delta + 4.0);
    if (hue < 0.0)
        hue += 360.0;

    hsv[0] = hue;
    hsv[1] = max > 0.0 ? delta / max : 0.0;
    hsv[2] = max;
}
