#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* HSL -> RGB (CSS / EasyRGB algorithm): hue in degrees, saturation and lightness 0..1; each channel comes
 * from the piecewise-linear hue ramp between the two levels p and q, with the grey branch for zero
 * saturation. Writes r, g, b in 0..1.
 *
 * Source: cujomalainey/noteable-glow, arduino/src/HSLtoRGB.cpp (Hue_2_RGB after easyrgb.com), rewritten in
 * C with the hue in degrees (and with the 1/3, 2/3 thresholds as double constants: a copy of this algorithm
 * elsewhere writes 1/6 in integer arithmetic, which is 0). */
#include <math.h>

static double hue_ramp(double p, double q, double h)
{
    if (h < 0.0)
        h += 1.0;
    if (h > 1.0)
        h -= 1.0;
    if (6.0 * h < 1.0)
        return p + (q - p) * 6.0 * h;
    if (2.0 * h < 1.0)
        return q;
    if (3.0 * h < 2.0)
        return p + (q - p) * (2.0 / 3.0 - h) * 6.0;
    return p;
}

#pragma nsc range hue 0 360
#pragma nsc range saturation 0 1
#pragma nsc range lightness 0 1
void hsl_to_rgb(double hue, double saturation, double lightness, double rgb[3])
{
    double h = hue / 360.0, q, p;

    if (saturation == 0.0) {
        rgb[0] = rgb[1] = rgb[2] = lightness;
        return;
    }
    q = lightness < 0.5 ? lightness * (1.0 + saturation) : lightness + saturation - lightness * saturation;
    p = 2.0 * lightness - q;
    rgb[0] = hue_ramp(p, q, h + 1.0 / 3.0);
    rgb[1] = hue_ramp(p, q, h);
    rgb[2] = hue_ramp(p, q, h - 1.0 / 3.0);
}
