#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* A camera's thin lens: the image distance b = 1 / (1/f - 1/g) of an object at distance g, the
 * magnification -b/g, and the diameter of the blur circle on a sensor placed where an object at the focus
 * distance would be sharp (sensor distance d = 1 / (1/f - 1/focus)): (f / N) |b - d| / b for aperture
 * f-number N. All distances in mm. The object and focus distances stay at least 5 mm beyond the focal
 * length, so both quotients come near their pole (b up to 780 mm) without reaching it.
 *
 * Source: cherenkov-plenoscope/thin_lens, README.rst (the thin-lens equation 1/f = 1/g + 1/b and the screen
 * distance d != b that blurs the image), written as C with the blur-circle formula. */
#include <math.h>

#pragma nsc range focal_mm 40 60
#pragma nsc range object_mm 65 2000
#pragma nsc range focus_mm 65 2000
#pragma nsc range f_number 1.4 16
double thin_lens(double focal_mm, double object_mm, double focus_mm, double f_number, double *magnification,
                 double *blur_mm)
{
    double image = 1.0 / (1.0 / focal_mm - 1.0 / object_mm);
    double sensor = 1.0 / (1.0 / focal_mm - 1.0 / focus_mm);

    *magnification = -image / object_mm;
    *blur_mm = focal_mm / f_number * fabs(image - sensor) / image;
    return image;
}
