/*
 * compare EXACT.bin APPROX.bin: the application-level quality and speed of the approximate build of orbits.c
 * against the exact one. Quality as AxBench measures its kernels: the mean relative error of the application's
 * output, here each body's position error divided by the size of its orbit (the semi-major axis), with the
 * largest and the share of bodies off by more than 1%; speed as the kernel's CPU time in each build.
 */
#include <math.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    FILE *a, *b;
    double ta, tb, ra[3], rb[3], sum = 0, worst = 0;
    unsigned long n = 0, over = 0;
    if (argc != 3 || !(a = fopen(argv[1], "rb")) || !(b = fopen(argv[2], "rb"))) {
        fprintf(stderr, "usage: compare EXACT.bin APPROX.bin\n");
        return 2;
    }
    if (fread(&ta, sizeof ta, 1, a) != 1 || fread(&tb, sizeof tb, 1, b) != 1) return 1;
    while (fread(ra, sizeof ra, 1, a) == 1 && fread(rb, sizeof rb, 1, b) == 1) {
        double err = hypot(ra[1] - rb[1], ra[2] - rb[2]) / ra[0];
        sum += err;
        worst = err > worst ? err : worst;
        over += err > 0.01;
        n++;
    }
    if (n == 0) return 1;
    printf("quality: mean relative position error %.4f%% (largest %.3f%%; %.2f%% of %lu bodies off by more "
           "than 1%%)\n", 100 * sum / n, 100 * worst, 100.0 * over / n, n);
    printf("speed:   exact %.2f M bodies/s, surrogate %.2f M bodies/s: %.2fx\n", n / ta / 1e6, n / tb / 1e6, ta / tb);
    return 0;
}
