#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* The Sun on a calendar date at 12:00 UT, by the Astronomical Almanac's low-precision formulas: the date
 * (integer year, month, day) becomes a day count since 2000-01-01 by integer arithmetic (years shifted to
 * start in March, integer division by 5, 4, 100 and 400), then the Sun's mean longitude and anomaly, its
 * ecliptic longitude, right ascension and declination. Returns the declination (degrees) and writes the
 * equation of time (minutes) and the time of solar noon (UTC hours) at the given longitude (degrees east).
 *
 * Sources: esm88/eot, sun.c (equation_of_time, after the Astronomical Almanac section C, "low precision
 * formulas for the Sun"), rewritten with atan2 in place of its quadrant fix-ups; the day count is
 * H. Hinnant's days_from_civil (howardhinnant.github.io/date_algorithms.html, public domain). */
#include <math.h>

#define DEG (M_PI / 180.0)
#define DAYS_1970_TO_2000 10957

static long days_from_civil(int y, int m, int d)
{
    long era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

#pragma nsc range year 1950 2049
#pragma nsc range month 1 12
#pragma nsc range day 1 28
#pragma nsc range longitude_deg -180 180
double solar_noon(int year, int month, int day, double longitude_deg, double *equation_of_time_min,
                  double *noon_utc_hours)
{
    double n = (double)(days_from_civil(year, month, day) - DAYS_1970_TO_2000);
    double mean_longitude = fmod(280.460 + 0.9856474 * n, 360.0);
    double anomaly = fmod(357.528 + 0.9856003 * n, 360.0) * DEG;
    double lambda = (mean_longitude + 1.915 * sin(anomaly) + 0.020 * sin(2.0 * anomaly)) * DEG;
    double epsilon = (23.439 - 0.0000004 * n) * DEG;
    double right_ascension = atan2(cos(epsilon) * sin(lambda), cos(lambda)) / DEG;
    double difference = fmod(mean_longitude - right_ascension + 540.0, 360.0) - 180.0; /* into [-180, 180) */
    double eot = 4.0 * difference;

    *equation_of_time_min = eot;
    *noon_utc_hours = 12.0 - longitude_deg / 15.0 - eot / 60.0;
    return asin(sin(epsilon) * sin(lambda)) / DEG;
}
