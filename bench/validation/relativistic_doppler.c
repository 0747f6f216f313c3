#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Special relativity for a source moving at speed beta = v/c, seen at angle theta from its direction of
 * motion: the Doppler factor D = 1 / (gamma (1 - beta cos theta)) (the observed over the emitted frequency;
 * up to about 14 head-on at beta = 0.99), the Lorentz factor gamma = 1 / sqrt(1 - beta^2) (a pole at
 * beta = 1, approached to 7.1), and the angle in the source's rest frame by aberration,
 * cos theta' = (cos theta - beta) / (1 - beta cos theta), in degrees.
 *
 * Source: zkdavis/SAPyto, SRtoolkit.py (LorentzFactor, Doppler) and nvieira-mcgill/rad-transient,
 * doppler.py (gamma, the (1 - mu beta) factor), written as C; the aberration of angles is the textbook
 * formula. */
#include <math.h>

#pragma nsc range beta 0 0.99
#pragma nsc range theta_deg 0 180
double relativistic_doppler(double beta, double theta_deg, double *lorentz_gamma, double *rest_angle_deg)
{
    double mu = cos(theta_deg * M_PI / 180.0);
    double gamma = 1.0 / sqrt(1.0 - beta * beta);
    double mu_rest = (mu - beta) / (1.0 - beta * mu);

    if (mu_rest > 1.0) /* rounding can push it just outside [-1, 1] */
        mu_rest = 1.0;
    else if (mu_rest < -1.0)
        mu_rest = -1.0;
    *lorentz_gamma = gamma;
    *rest_angle_deg = acos(mu_rest) * 180.0 / M_PI;
    return 1.0 / (gamma * (1.0 - beta * mu));
}
