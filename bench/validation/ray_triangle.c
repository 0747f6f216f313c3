#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Ray-triangle intersection (Moller-Trumbore) against one fixed triangle: a ray from (ox, oy, 0) along the
 * normalised direction (dx, dy, 1). Returns the distance to the hit point, or the far-plane distance 10 when
 * the ray misses (parallel to the plane, outside an edge, or behind the origin), and writes the hit's
 * barycentric coordinates u and v (0 on a miss).
 *
 * Source: LabAixBidouille/Audela, audela/src/audela/libmc/src/mc_util2.c (intersect_triangle, T. Moller's
 * JGT code with the determinant test and the u, v bound tests), rewritten with scalar 3-vectors. */
#include <math.h>

#define EPSILON 1e-9
#define FAR_PLANE 10.0

static const double V0[3] = {-1.0, -1.0, 4.0};
static const double V1[3] = {2.0, -1.0, 5.0};
static const double V2[3] = {-1.0, 2.0, 3.0};

static void cross(const double a[3], const double b[3], double out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static double dot(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

#pragma nsc range ox -1 1
#pragma nsc range oy -1 1
#pragma nsc range dx -0.4 0.4
#pragma nsc range dy -0.4 0.4
double ray_triangle(double ox, double oy, double dx, double dy, double *u_out, double *v_out)
{
    double norm = sqrt(dx * dx + dy * dy + 1.0);
    double dir[3], origin[3], edge1[3], edge2[3], pvec[3], tvec[3], qvec[3];
    double det, inv_det, u, v, t;
    int i;

    dir[0] = dx / norm;
    dir[1] = dy / norm;
    dir[2] = 1.0 / norm;
    origin[0] = ox;
    origin[1] = oy;
    origin[2] = 0.0;
    for (i = 0; i < 3; i++) {
        edge1[i] = V1[i] - V0[i];
        edge2[i] = V2[i] - V0[i];
        tvec[i] = origin[i] - V0[i];
    }
    *u_out = 0.0;
    *v_out = 0.0;

    cross(dir, edge2, pvec);
    det = dot(edge1, pvec);
    if (fabs(det) < EPSILON)
        return FAR_PLANE;
    inv_det = 1.0 / det;
    u = dot(tvec, pvec) * inv_det;
    if (u < 0.0 || u > 1.0)
        return FAR_PLANE;
    cross(tvec, edge1, qvec);
    v = dot(dir, qvec) * inv_det;
    if (v < 0.0 || u + v > 1.0)
        return FAR_PLANE;
    t = dot(edge2, qvec) * inv_det;
    if (t < EPSILON)
        return FAR_PLANE;
    *u_out = u;
    *v_out = v;
    return t;
}
