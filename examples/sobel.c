/*
 * Sobel edge detector on one 3x3 window of a greyscale image.
 *
 * The AxBench / Parrot "sobel" kernel: nine pixel intensities (row-major, centre pixel px[4]) in, the
 * gradient magnitude out, scaled so that the strongest possible edge maps to 255.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define WINDOW 3
#define MAX_INTENSITY 255.0f
/* Largest |gradient| for pixels in [0, 255]: sqrt(2) * 4 * 255; dividing by 4*sqrt(2) keeps 8 bits. */
#define MAGNITUDE_SCALE 5.656854249f

static const int kernel_x[WINDOW][WINDOW] = {
    {-1, 0, 1},
    {-2, 0, 2},
    {-1, 0, 1},
};

static const int kernel_y[WINDOW][WINDOW] = {
    {-1, -2, -1},
    { 0,  0,  0},
    { 1,  2,  1},
};

#pragma nsc range px 0 255
#pragma nsc surrogate
float sobel(const float px[9])
{
    float gx = 0.0f, gy = 0.0f;
    int i, j;

    for (i = 0; i < WINDOW; i++) {
        for (j = 0; j < WINDOW; j++) {
            float p = px[i * WINDOW + j];
            gx += kernel_x[i][j] * p;
            gy += kernel_y[i][j] * p;
        }
    }

    float magnitude = sqrtf(gx * gx + gy * gy) / MAGNITUDE_SCALE;
    return magnitude > MAX_INTENSITY ? MAX_INTENSITY : magnitude;
}
