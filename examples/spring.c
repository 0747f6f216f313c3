/*
 * Damped mass-spring oscillator, m x'' = -k x - c x', integrated for two seconds.
 *
 * A small physics time-stepping loop of the kind game and animation code runs per object per frame:
 * semi-implicit (symplectic) Euler with a fixed step.  Final position and velocity come back through
 * pointers.  With dt = 0.01 and sqrt(k/m) <= 10 the scheme is stable over the whole input box.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#define TIME_STEP 0.01
#define N_STEPS 200

#pragma nsc range x0 -1 1
#pragma nsc range v0 -2 2
#pragma nsc range stiffness 1 50
#pragma nsc range damping 0 2
#pragma nsc range mass 0.5 2
#pragma nsc surrogate
void damped_spring(double x0, double v0, double stiffness, double damping, double mass,
                   double *x_final, double *v_final)
{
    double x = x0, v = v0;
    double inv_mass = 1.0 / mass;
    int step;

    for (step = 0; step < N_STEPS; step++) {
        double force = -stiffness * x - damping * v;
        v += force * inv_mass * TIME_STEP; /* velocity first, then position: symplectic Euler */
        x += v * TIME_STEP;
    }

    *x_final = x;
    *v_final = v;
}
