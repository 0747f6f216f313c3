/*
 * Brightness / contrast / gamma adjustment of one RGB pixel (channels in [0, 1]).
 *
 * A typical photo-editor colour filter: contrast stretches each channel around mid-grey, brightness shifts
 * it, the result is clipped to [0, 1] and then gamma-corrected.  Six inputs, three outputs.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define MID_GREY 0.5

static double clamp01(double v)
{
    if (v < 0.0)
        return 0.0;
    if (v > 1.0)
        return 1.0;
    return v;
}

static double adjust_channel(double c, double brightness, double contrast, double inv_gamma)
{
    double v = (c - MID_GREY) * contrast + MID_GREY + brightness;
    return pow(clamp01(v), inv_gamma);
}

#pragma nsc range r 0 1
#pragma nsc range g 0 1
#pragma nsc range b 0 1
#pragma nsc range brightness -0.2 0.2
#pragma nsc range contrast 0.5 1.5
#pragma nsc range gamma 0.5 2.2
#pragma nsc surrogate
void color_adjust(double r, double g, double b, double brightness, double contrast, double gamma,
                  double out[3])
{
    double inv_gamma = 1.0 / gamma;
    out[0] = adjust_channel(r, brightness, contrast, inv_gamma);
    out[1] = adjust_channel(g, brightness, contrast, inv_gamma);
    out[2] = adjust_channel(b, brightness, contrast, inv_gamma);
}
