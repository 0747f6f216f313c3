/*
 * Income tax under a progressive schedule with a tapered personal allowance (modelled on the UK bands).
 *
 * A piecewise-linear function with kinks, written the way payroll code is: an if/else chain over the
 * bands.  Pension contributions are deducted before tax.  Returns the tax due and writes the effective
 * rate (tax / gross income).
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#define PERSONAL_ALLOWANCE 12570.0
#define TAPER_THRESHOLD 100000.0 /* allowance shrinks by 1 for every 2 above this */
#define BASIC_BAND 37700.0
#define HIGHER_BAND_TOP 112570.0 /* taxable income where the additional rate starts */
#define BASIC_RATE 0.20
#define HIGHER_RATE 0.40
#define ADDITIONAL_RATE 0.45

static double personal_allowance(double adjusted_income)
{
    double allowance = PERSONAL_ALLOWANCE;
    if (adjusted_income > TAPER_THRESHOLD)
        allowance -= 0.5 * (adjusted_income - TAPER_THRESHOLD);
    return allowance > 0.0 ? allowance : 0.0;
}

#pragma nsc range income 5000 250000
#pragma nsc range pension 0 20000
#pragma nsc surrogate
double income_tax(double income, double pension, double *effective_rate)
{
    double adjusted = income - pension;
    double taxable, tax;

    if (adjusted < 0.0)
        adjusted = 0.0;
    taxable = adjusted - personal_allowance(adjusted);

    if (taxable <= 0.0)
        tax = 0.0;
    else if (taxable <= BASIC_BAND)
        tax = BASIC_RATE * taxable;
    else if (taxable <= HIGHER_BAND_TOP)
        tax = BASIC_RATE * BASIC_BAND + HIGHER_RATE * (taxable - BASIC_BAND);
    else
        tax = BASIC_RATE * BASIC_BAND + HIGHER_RATE * (HIGHER_BAND_TOP - BASIC_BAND)
            + ADDITIONAL_RATE * (taxable - HIGHER_BAND_TOP);

    *effective_rate = income > 0.0 ? tax / income : 0.0;
    return tax;
}
