#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Wind chill temperature (North American formula, deg C), defined for air at or below 10 C and wind
 * above 4.8 km/h; outside that domain the air temperature itself is returned. */
#include <math.h>

#pragma nsc range air_c -40 15
#pragma nsc range wind_kmh 0 80
double wind_chill(double air_c, double wind_kmh)
{
    if (air_c > 10.0 || wind_kmh <= 4.8)
        return air_c;
    double v = pow(wind_kmh, 0.16);
    return 13.12 + 0.6215 * air_c - 11.37 * v + 0.3965 * air_c * v;
}
