/*
 * Colour distance of k-means image segmentation (the AxBench "kmeans" kernel).
 *
 * k-means assigns each pixel to the nearest of k colour centroids; the approximable region is the Euclidean
 * distance between a pixel and a centroid in RGB space.  The file also holds the assignment step that
 * calls it, which is why the target is marked with `#pragma nsc surrogate`.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define N_CHANNELS 3
#define N_CLUSTERS 4

static float square(float v)
{
    return v * v;
}

#pragma nsc range pixel 0 1
#pragma nsc range centroid 0 1
#pragma nsc surrogate
float color_distance(const float pixel[N_CHANNELS], const float centroid[N_CHANNELS])
{
    float sum = 0.0f;
    int c;
    for (c = 0; c < N_CHANNELS; c++)
        sum += square(pixel[c] - centroid[c]);
    return sqrtf(sum);
}

/* Index of the centroid nearest to the pixel (not the surrogate target: it returns a label). */
int assign_cluster(const float pixel[N_CHANNELS], const float centroids[N_CLUSTERS][N_CHANNELS])
{
    int best = 0, k;
    float best_distance = color_distance(pixel, centroids[0]);
    for (k = 1; k < N_CLUSTERS; k++) {
        float d = color_distance(pixel, centroids[k]);
        if (d < best_distance) {
            best_distance = d;
            best = k;
        }
    }
    return best;
}
