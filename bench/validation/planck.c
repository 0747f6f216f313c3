#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Black-body spectral radiance (Planck's law) in W / (m^2 sr um), and the fraction of the Wien peak. */
#include <math.h>

#define H 6.62607015e-34
#define C 2.99792458e8
#define KB 1.380649e-23
#define WIEN_B 2897.771955 /* um K */

#pragma nsc range wavelength_um 0.4 3.0
#pragma nsc range temperature_k 2500 6500
double planck_radiance(double wavelength_um, double temperature_k, double *peak_fraction)
{
    double lam = wavelength_um * 1e-6;
    double x = H * C / (lam * KB * temperature_k);
    double radiance = 2.0 * H * C * C / pow(lam, 5.0) / expm1(x) * 1e-6;
    double lam_peak = WIEN_B / temperature_k * 1e-6;
    double x_peak = H * C / (lam_peak * KB * temperature_k);
    double peak = 2.0 * H * C * C / pow(lam_peak, 5.0) / expm1(x_peak) * 1e-6;
    *peak_fraction = radiance / peak;
    return radiance;
}
