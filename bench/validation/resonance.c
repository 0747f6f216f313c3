#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Steady-state response of a driven, damped harmonic oscillator  x'' + 2 zeta w0 x' + w0^2 x = w0^2 F cos(w t):
 * the amplitude ratio (dynamic over static deflection)
 *   w0^2 / sqrt((w0^2 - w^2)^2 + (2 zeta w0 w)^2),
 * which peaks near 1 / (2 zeta) at resonance (w = w0, up to 25 for the lightest damping here), and the phase
 * lag atan2(2 zeta w0 w, w0^2 - w^2) in degrees (0 below resonance, 90 at it, towards 180 above).
 *
 * Source: justinlietz93/Physics-Taxonomies, Taxonomies-of-Physics/K1-L1_Mechanics/P3-L2_Oscillations-&-Resonance/
 * C1-L3_Simple-and-Driven-Oscillators/O2-L4_Forced-and-Resonant-Response/
 * O2-L4_Forced-and-Resonant-Response_Equations.md (the transfer function's magnitude and the phase lag of the
 * forced oscillator), written as C. */
#include <math.h>

#pragma nsc range drive_freq 0.1 3
#pragma nsc range natural_freq 0.5 2
#pragma nsc range damping_ratio 0.02 0.5
double resonance_amplitude(double drive_freq, double natural_freq, double damping_ratio, double *phase_deg)
{
    double w0sq = natural_freq * natural_freq;
    double detuning = w0sq - drive_freq * drive_freq;
    double friction = 2.0 * damping_ratio * natural_freq * drive_freq;

    *phase_deg = atan2(friction, detuning) * 180.0 / M_PI;
    return w0sq / sqrt(detuning * detuning + friction * friction);
}
