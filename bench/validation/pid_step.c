#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* One step of a discrete PID controller with output saturation and conditional-integration anti-windup.
 * Returns the actuator command and writes the updated integral state. */
#define DT 0.01
#define OUT_MIN -10.0
#define OUT_MAX 10.0

#pragma nsc range error -5 5
#pragma nsc range prev_error -5 5
#pragma nsc range integral -20 20
#pragma nsc range kp 0.5 5
#pragma nsc range ki 0 2
#pragma nsc range kd 0 0.2
double pid_step(double error, double prev_error, double integral, double kp, double ki, double kd,
                double *new_integral)
{
    double derivative = (error - prev_error) / DT;
    double candidate = integral + error * DT;
    double u = kp * error + ki * candidate + kd * derivative;
    if (u > OUT_MAX) {
        u = OUT_MAX;
        if (error > 0.0)
            candidate = integral; /* saturated high: do not wind up further */
    } else if (u < OUT_MIN) {
        u = OUT_MIN;
        if (error < 0.0)
            candidate = integral;
    }
    *new_integral = candidate;
    return u;
}
