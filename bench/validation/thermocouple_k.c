#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Type K thermocouple reading with cold-junction compensation, in integer arithmetic as on a
 * microcontroller: the cold-junction temperature (milli-degrees C) is converted to microvolts through the
 * reference table, added to the measured thermocouple voltage (microvolts), and the sum converted back to
 * the hot-junction temperature through the same table. Each conversion searches the table for the segment
 * and interpolates linearly with integer multiply and divide (truncating). Returns milli-degrees C.
 *
 * Source: Miceuz/k-thermocouple-lib, thermocouple.c (thermocoupleConvertWithCJCompensation, interpolate,
 * searchTemp, searchMicrovolts), rewritten; its hand-picked 65-point table is replaced by the NIST ITS-90
 * type K reference values every 50 C from 0 to 1200 C (srdata.nist.gov/its90, microvolts). */
#include <stdint.h>

#define POINTS 25
#define STEP_MILLI_C 50000

static const int32_t MICROVOLTS[POINTS] = {
    0,     2023,  4096,  6138,  8138,  10153, 12209, 14293, 16397, 18516, 20644, 22776, 24905,
    27025, 29129, 31213, 33275, 35313, 37326, 39314, 41276, 43211, 45119, 46995, 48838,
};

static int64_t interpolate(int64_t value, int64_t from_lo, int64_t from_hi, int64_t to_lo, int64_t to_hi)
{
    return to_lo + (to_hi - to_lo) * (value - from_lo) / (from_hi - from_lo);
}

static int64_t microvolts_at(int64_t milli_c)
{
    int i = 1;
    while (i < POINTS - 1 && (int64_t)STEP_MILLI_C * i <= milli_c)
        i++;
    return interpolate(milli_c, (int64_t)STEP_MILLI_C * (i - 1), (int64_t)STEP_MILLI_C * i, MICROVOLTS[i - 1],
                       MICROVOLTS[i]);
}

static int64_t milli_c_at(int64_t microvolts)
{
    int i = 1;
    while (i < POINTS - 1 && MICROVOLTS[i] <= microvolts)
        i++;
    return interpolate(microvolts, MICROVOLTS[i - 1], MICROVOLTS[i], (int64_t)STEP_MILLI_C * (i - 1),
                       (int64_t)STEP_MILLI_C * i);
}

#pragma nsc range measured_microvolts 0 45000
#pragma nsc range cold_junction_milli_c 0 50000
long thermocouple_k(int measured_microvolts, int cold_junction_milli_c)
{
    int64_t total = (int64_t)measured_microvolts + microvolts_at(cold_junction_milli_c);
    return (long)milli_c_at(total);
}
