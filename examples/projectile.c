/*
 * Range and flight time of a projectile with quadratic air drag, launched from the ground.
 *
 * Explicit Euler steps until the projectile falls below the ground (bounded by MAX_STEPS), then linear
 * interpolation inside the last step for the landing point.  drag is k = rho * Cd * A / (2 m) in 1/m.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

#define GRAVITY 9.81
#define TIME_STEP 0.005
#define MAX_STEPS 4000 /* 20 s of flight: longer than any launch in the ranges below */
#define DEG_TO_RAD (M_PI / 180.0)

#pragma nsc range speed 5 50
#pragma nsc range angle_deg 10 80
#pragma nsc range drag 0 0.05
#pragma nsc surrogate
double projectile_range(double speed, double angle_deg, double drag, double *flight_time)
{
    double angle = angle_deg * DEG_TO_RAD;
    double x = 0.0, y = 0.0, t = 0.0;
    double vx = speed * cos(angle), vy = speed * sin(angle);
    int step;

    for (step = 0; step < MAX_STEPS; step++) {
        double v = sqrt(vx * vx + vy * vy);
        double x_next = x + vx * TIME_STEP;
        double y_next = y + vy * TIME_STEP;

        vx += -drag * v * vx * TIME_STEP;
        vy += (-GRAVITY - drag * v * vy) * TIME_STEP;

        if (y_next < 0.0) {
            double frac = y / (y - y_next); /* fraction of the step before touching the ground */
            x += frac * (x_next - x);
            t += frac * TIME_STEP;
            break;
        }
        x = x_next;
        y = y_next;
        t += TIME_STEP;
    }

    *flight_time = t;
    return x;
}
