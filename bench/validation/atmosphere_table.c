#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Air data from a tabulated U.S. Standard Atmosphere 1976: temperature and density every 2 km of
 * geopotential altitude from 0 to 30 km, looked up by a segment search and linear interpolation, clamped to
 * the table's ends outside it (the altitude range reaches 1 km below and 2 km above the table). Returns the
 * density (kg/m^3) and writes the dynamic pressure 0.5 rho v^2 (Pa) and the Mach number v / sqrt(1.4 R T)
 * for the true airspeed v (m/s).
 *
 * Source: the layer model of radioflyer28/NexGenAirlifter, friction/stdatm.m (gradient and isothermal layers
 * below 32 km, from the 1976 standard, NASA-TM-X-74335), tabulated here at 2 km steps in the way flight
 * codes store it; the table values were computed from that model (R = 287.053, g0 = 9.80665). */
#include <math.h>

#define ENTRIES 16
#define STEP_M 2000.0
#define GAMMA_R (1.4 * 287.053)

static const double TEMPERATURE_K[ENTRIES] = {
    288.15, 275.15, 262.15, 249.15, 236.15, 223.15, 216.65, 216.65,
    216.65, 216.65, 216.65, 218.65, 220.65, 222.65, 224.65, 226.65,
};
static const double DENSITY[ENTRIES] = {
    1.22500, 1.00649, 0.81913, 0.65970, 0.52517, 0.41271, 0.31083, 0.22675,
    0.16542, 0.12068, 0.08803, 0.06373, 0.04627, 0.03369, 0.02460, 0.01801,
};

#pragma nsc range altitude_m -1000 32000
#pragma nsc range airspeed_mps 50 600
double air_data(double altitude_m, double airspeed_mps, double *dynamic_pressure, double *mach)
{
    double h = altitude_m < 0.0 ? 0.0 : (altitude_m > STEP_M * (ENTRIES - 1) ? STEP_M * (ENTRIES - 1) : altitude_m);
    int i = 0;
    double frac, temperature, density;

    while (i < ENTRIES - 2 && h > STEP_M * (i + 1))
        i++;
    frac = (h - STEP_M * i) / STEP_M;
    temperature = TEMPERATURE_K[i] + frac * (TEMPERATURE_K[i + 1] - TEMPERATURE_K[i]);
    density = DENSITY[i] + frac * (DENSITY[i + 1] - DENSITY[i]);

    *dynamic_pressure = 0.5 * density * airspeed_mps * airspeed_mps;
    *mach = airspeed_mps / sqrt(GAMMA_R * temperature);
    return density;
}
