#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Damped, driven pendulum  theta'' = -(g/L) sin(theta) - b theta' + A cos(k t)  (L = 1 m), integrated by
 * the classical fourth-order Runge-Kutta method: 200 steps of 0.02 s. Returns the final angle (rad, not
 * wrapped: a pendulum given enough energy goes over the top) and writes the final angular velocity.
 *
 * Source: the RK4 step of yobrooks/Pendulum, pendMath.cpp (thetadot, omegadot, step), rewritten with the
 * damping b and the drive amplitude A as inputs and a fixed number of steps. */
#include <math.h>

#define STEPS 200
#define DT 0.02
#define G_OVER_L 9.81
#define DRIVE_FREQUENCY (2.0 / 3.0) /* rad/s */

static double angular_acceleration(double t, double theta, double omega, double damping, double drive)
{
    return -G_OVER_L * sin(theta) - damping * omega + drive * cos(DRIVE_FREQUENCY * t);
}

#pragma nsc range theta0 -2.5 2.5
#pragma nsc range omega0 -3 3
#pragma nsc range damping 0.05 1
#pragma nsc range drive 0 1.5
double pendulum_rk4(double theta0, double omega0, double damping, double drive, double *omega_final)
{
    double theta = theta0, omega = omega0, t = 0.0;
    int step;

    for (step = 0; step < STEPS; step++) {
        double k1 = omega;
        double j1 = angular_acceleration(t, theta, omega, damping, drive);
        double k2 = omega + 0.5 * DT * j1;
        double j2 = angular_acceleration(t + 0.5 * DT, theta + 0.5 * DT * k1, omega + 0.5 * DT * j1, damping, drive);
        double k3 = omega + 0.5 * DT * j2;
        double j3 = angular_acceleration(t + 0.5 * DT, theta + 0.5 * DT * k2, omega + 0.5 * DT * j2, damping, drive);
        double k4 = omega + DT * j3;
        double j4 = angular_acceleration(t + DT, theta + DT * k3, omega + DT * j3, damping, drive);
        theta += DT / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        omega += DT / 6.0 * (j1 + 2.0 * j2 + 2.0 * j3 + j4);
        t += DT;
    }
    *omega_final = omega;
    return theta;
}
