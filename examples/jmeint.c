/*
 * Triangle-triangle intersection test in 3-D (the AxBench / Parrot "jmeint" kernel, used by collision
 * detection in game engines).
 *
 * Two triangles in general position intersect exactly when an edge of one crosses the other, so the test
 * runs six segment-triangle tests (Moller-Trumbore with the ray parameter limited to the segment).
 * Inputs: the nine vertex coordinates of each triangle (x0 y0 z0 x1 ...).  Output: 1 if they intersect.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define PARALLEL_EPSILON 1e-9f

static void sub3(const float a[3], const float b[3], float out[3])
{
    out[0] = a[0] - b[0];
    out[1] = a[1] - b[1];
    out[2] = a[2] - b[2];
}

static void cross3(const float a[3], const float b[3], float out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static float dot3(const float a[3], const float b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* Does the segment p -> q cross triangle (v0, v1, v2)?  Moller & Trumbore, 1997. */
static int segment_hits_triangle(const float p[3], const float q[3],
                                 const float v0[3], const float v1[3], const float v2[3])
{
    float dir[3], e1[3], e2[3], h[3], s[3], qv[3];
    float det, inv_det, u, v, t;

    sub3(q, p, dir);
    sub3(v1, v0, e1);
    sub3(v2, v0, e2);
    cross3(dir, e2, h);
    det = dot3(e1, h);
    if (fabsf(det) < PARALLEL_EPSILON)
        return 0; /* segment parallel to the triangle's plane */
    inv_det = 1.0f / det;

    sub3(p, v0, s);
    u = inv_det * dot3(s, h);
    if (u < 0.0f || u > 1.0f)
        return 0;
    cross3(s, e1, qv);
    v = inv_det * dot3(dir, qv);
    if (v < 0.0f || u + v > 1.0f)
        return 0;
    t = inv_det * dot3(e2, qv);
    return t >= 0.0f && t <= 1.0f;
}

/* Does any edge of triangle a cross triangle b? */
static int edges_cross(const float a[9], const float b[9])
{
    int i;
    for (i = 0; i < 3; i++) {
        const float *p = a + 3 * i;
        const float *q = a + 3 * ((i + 1) % 3);
        if (segment_hits_triangle(p, q, b, b + 3, b + 6))
            return 1;
    }
    return 0;
}

#pragma nsc range tri1 0 1
#pragma nsc range tri2 0 1
#pragma nsc surrogate
int jmeint(const float tri1[9], const float tri2[9])
{
    return edges_cross(tri1, tri2) || edges_cross(tri2, tri1);
}
