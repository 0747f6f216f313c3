/*
 * NTC thermistor temperature from a 12-bit ADC reading, by table lookup with linear interpolation.
 *
 * Embedded firmware style: the thermistor (10 kOhm at 25 C, B = 3950) sits below a 10 kOhm pull-up; the
 * ADC code gives its resistance, and a 16-entry calibration table (every 10 C from -20 C to 130 C) is
 * searched and interpolated.  Readings beyond the table clamp to its ends.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#define ADC_FULL_SCALE 4095
#define PULLUP_OHMS 10000.0
#define TABLE_SIZE 16
#define TABLE_T0 -20.0 /* temperature of the first entry, C */
#define TABLE_STEP 10.0

/* Resistance in ohms at TABLE_T0 + i * TABLE_STEP; decreasing with temperature. */
static const double ntc_table[TABLE_SIZE] = {
    105384.7, 58245.7, 33620.6, 20174.6, 12535.3, 8037.1, 5301.5, 3588.2,
    2486.2, 1759.8, 1270.3, 933.6, 697.5, 529.1, 407.1, 317.3,
};

#pragma nsc range adc_code 150 3800
double thermistor_celsius(int adc_code)
{
    double resistance = PULLUP_OHMS * adc_code / (double)(ADC_FULL_SCALE - adc_code);
    int i;

    if (resistance >= ntc_table[0])
        return TABLE_T0;
    if (resistance <= ntc_table[TABLE_SIZE - 1])
        return TABLE_T0 + (TABLE_SIZE - 1) * TABLE_STEP;

    /* Find the segment [i, i+1] with table[i] >= resistance > table[i+1]. */
    for (i = 0; i < TABLE_SIZE - 2; i++) {
        if (resistance > ntc_table[i + 1])
            break;
    }
    double frac = (ntc_table[i] - resistance) / (ntc_table[i] - ntc_table[i + 1]);
    return TABLE_T0 + (i + frac) * TABLE_STEP;
}
