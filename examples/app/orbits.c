/*
 * Where are they now: the positions of many bodies on Kepler orbits at one time, the application of
 * examples/app/Makefile. Its kernel, solving Kepler's equation M = E - e sin E for the eccentric anomaly E
 * (12 Newton steps, examples/kepler.c), is what a neural surrogate replaces (the Parrot transformation):
 *
 *   cc -O2 orbits.c ../kepler.c -lm                                    exact
 *   cc -O2 -DAPPROX -Ibuild orbits.c build/kepler_surrogate.c -lm      the surrogate from `nsc emit-c`
 *
 * Usage: orbits N OUT.bin. The bodies are drawn from a fixed generator, so both builds place the same ones.
 * OUT.bin holds the kernel's CPU seconds and then, per body, its semi-major axis and its position (x, y), as
 * doubles; `compare` reads two of them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef APPROX
#include "kepler_surrogate.h"
#else
double kepler_solve(double mean_anomaly, double eccentricity, double *true_anomaly);
#endif

#define TWO_PI 6.283185307179586

static unsigned long long state = 88172645463325252ULL;

static double uniform(double lo, double hi)  /* xorshift64: the same bodies in every build */
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return lo + (hi - lo) * (double)(state >> 11) / 9007199254740992.0;
}

/* The kernel: E for each body's (mean anomaly, eccentricity), rows of two floats. */
static void eccentric_anomalies(const float *orbit, float *anomaly, size_t n)
{
#ifdef APPROX
    float *out = malloc(n * KEPLER_SURROGATE_N_OUT * sizeof *out);
    size_t i;
    if (!out) exit(1);
    kepler_surrogate_batch(orbit, out, n);  /* one call for every row: the batch entry point */
    for (i = 0; i < n; i++) anomaly[i] = out[i * KEPLER_SURROGATE_N_OUT];  /* output 0: E (1: true anomaly) */
    free(out);
#else
    size_t i;
    for (i = 0; i < n; i++) {
        double true_anomaly;
        anomaly[i] = (float)kepler_solve(orbit[2 * i], orbit[2 * i + 1], &true_anomaly);
    }
#endif
}

int main(int argc, char **argv)
{
    size_t n, i;
    float *orbit, *anomaly;
    double *axis, seconds, t = 1000.0;  /* days since the epoch */
    clock_t start;
    FILE *f;
    if (argc != 3 || (n = strtoul(argv[1], 0, 10)) == 0) {
        fprintf(stderr, "usage: %s N OUT.bin\n", argv[0]);
        return 2;
    }
    orbit = malloc(n * 2 * sizeof *orbit);
    anomaly = malloc(n * sizeof *anomaly);
    axis = malloc(n * sizeof *axis);
    if (!orbit || !anomaly || !axis) return 1;
    for (i = 0; i < n; i++) {
        double period = uniform(80.0, 4000.0), phase = uniform(0.0, TWO_PI);
        axis[i] = pow(period / 365.25, 2.0 / 3.0);  /* AU, by Kepler's third law around a solar mass */
        orbit[2 * i] = (float)fmod(phase + TWO_PI * t / period, TWO_PI);
        orbit[2 * i + 1] = (float)uniform(0.0, 0.9);
    }
    start = clock();
    eccentric_anomalies(orbit, anomaly, n);
    seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    f = fopen(argv[2], "wb");
    if (!f || fwrite(&seconds, sizeof seconds, 1, f) != 1) return 1;
    for (i = 0; i < n; i++) {
        double e = orbit[2 * i + 1], E = anomaly[i], a = axis[i];
        double row[3];
        row[0] = a;
        row[1] = a * (cos(E) - e);
        row[2] = a * sqrt(1.0 - e * e) * sin(E);
        if (fwrite(row, sizeof row, 1, f) != 1) return 1;
    }
    fclose(f);
    printf("%s: %lu bodies, Kepler's equation solved in %.3f s of CPU (%.2f M bodies/s)\n", argv[0],
           (unsigned long)n, seconds, n / seconds / 1e6);
#if defined(APPROX) && KEPLER_SURROGATE_GUARDED
    {
        kepler_surrogate_stats_t s;
        kepler_surrogate_stats(&s);
        printf("%s: the guard handed %llu of %llu bodies to kepler_solve (%llu outside the ranges, %llu predicted "
               "above the error threshold)\n", argv[0], s.fallbacks, s.calls, s.out_of_range, s.predicted_error);
    }
#endif
    return 0;
}
