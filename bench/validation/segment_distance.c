#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Shortest distance between two line segments in the plane, S1 = p1 + s (q1 - p1) and S2 = p2 + t (q2 - p2),
 * by the closest-point method with clamping of s and t to [0, 1] (and the branches for segments that
 * degenerate to points and for parallel segments). Returns the distance and writes the parameters s and t
 * of the closest points.
 *
 * Source: xissburg/edyn, src/edyn/math/geom.cpp (closest_point_segment_segment, after Ericson, Real-Time
 * Collision Detection, section 5.1.9), rewritten in C for 2-D points. */
#include <math.h>

#define EPSILON 1e-12

static double clamp_unit(double v)
{
    return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
}

#pragma nsc range p1x -1 1
#pragma nsc range p1y -1 1
#pragma nsc range q1x -1 1
#pragma nsc range q1y -1 1
#pragma nsc range p2x -1 1
#pragma nsc range p2y -1 1
#pragma nsc range q2x -1 1
#pragma nsc range q2y -1 1
double segment_distance(double p1x, double p1y, double q1x, double q1y, double p2x, double p2y, double q2x,
                        double q2y, double *s_out, double *t_out)
{
    double d1x = q1x - p1x, d1y = q1y - p1y, d2x = q2x - p2x, d2y = q2y - p2y;
    double rx = p1x - p2x, ry = p1y - p2y;
    double a = d1x * d1x + d1y * d1y, e = d2x * d2x + d2y * d2y, f = d2x * rx + d2y * ry;
    double s, t, dx, dy;

    if (a <= EPSILON && e <= EPSILON) {
        s = t = 0.0;
    } else if (a <= EPSILON) {
        s = 0.0;
        t = clamp_unit(f / e);
    } else {
        double c = d1x * rx + d1y * ry;
        if (e <= EPSILON) {
            t = 0.0;
            s = clamp_unit(-c / a);
        } else {
            double b = d1x * d2x + d1y * d2y;
            double denom = a * e - b * b;
            s = denom > EPSILON ? clamp_unit((b * f - c * e) / denom) : 0.0; /* parallel: any s, take 0 */
            t = (b * s + f) / e;
            if (t < 0.0) {
                t = 0.0;
                s = clamp_unit(-c / a);
            } else if (t > 1.0) {
                t = 1.0;
                s = clamp_unit((b - c) / a);
            }
        }
    }
    dx = (p1x + d1x * s) - (p2x + d2x * t);
    dy = (p1y + d1y * s) - (p2y + d2y * t);
    *s_out = s;
    *t_out = t;
    return sqrt(dx * dx + dy * dy);
}
