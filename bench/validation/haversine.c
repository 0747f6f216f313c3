#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Great-circle distance between two points on the Earth (haversine formula), in km. */
#include <math.h>

#define EARTH_RADIUS_KM 6371.0
#define DEG (M_PI / 180.0)

#pragma nsc range lat1 -60 60
#pragma nsc range lon1 -180 180
#pragma nsc range lat2 -60 60
#pragma nsc range lon2 -180 180
double haversine_km(double lat1, double lon1, double lat2, double lon2)
{
    double dlat = (lat2 - lat1) * DEG, dlon = (lon2 - lon1) * DEG;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * DEG) * cos(lat2 * DEG) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1.0)
        a = 1.0;
    return 2.0 * EARTH_RADIUS_KM * atan2(sqrt(a), sqrt(1.0 - a));
}
