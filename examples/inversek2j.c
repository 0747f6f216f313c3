/*
 * Inverse kinematics of a planar two-joint robot arm.
 *
 * The AxBench / Parrot "inversek2j" kernel: given the end effector position (x, y), find the joint angles
 * theta1 (shoulder) and theta2 (elbow, "elbow down" solution) in radians.  Both links are 0.5 long, so the
 * input ranges keep (x, y) inside the reachable annulus.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define LINK1 0.5f
#define LINK2 0.5f

/* acos() of a value pushed slightly outside [-1, 1] by rounding would be NaN. */
static float clamp_unit(float v)
{
    if (v > 1.0f)
        return 1.0f;
    if (v < -1.0f)
        return -1.0f;
    return v;
}

#pragma nsc range x 0.1 0.7
#pragma nsc range y 0.1 0.7
#pragma nsc surrogate
void inversek2j(float x, float y, float *theta1, float *theta2)
{
    float r2 = x * x + y * y;
    float cos_elbow = clamp_unit((r2 - LINK1 * LINK1 - LINK2 * LINK2) / (2.0f * LINK1 * LINK2));
    float elbow = acosf(cos_elbow);
    float shoulder = atan2f(y, x) - atan2f(LINK2 * sinf(elbow), LINK1 + LINK2 * cos_elbow);

    *theta1 = shoulder;
    *theta2 = elbow;
}
