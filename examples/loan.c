/*
 * Level payment of an amortising loan, and the total interest paid over its life.
 *
 * Mixes integer and floating-point inputs: the term in whole years and the payment frequency chosen by an
 * integer mode (switch).  The interest total is accumulated period by period, as an amortisation schedule
 * would print it.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include <math.h>

enum payment_frequency { MONTHLY = 0, QUARTERLY = 1, ANNUAL = 2 };

static int periods_per_year(int frequency)
{
    switch (frequency) {
    case MONTHLY:
        return 12;
    case QUARTERLY:
        return 4;
    default:
        return 1;
    }
}

#pragma nsc range principal 10000 500000
#pragma nsc range annual_rate 0.01 0.12
#pragma nsc range years 1 30
#pragma nsc range frequency 0 2
#pragma nsc surrogate
double loan_payment(double principal, double annual_rate, int years, int frequency, double *total_interest)
{
    int per_year = periods_per_year(frequency);
    int n_periods = years * per_year;
    double rate = annual_rate / per_year;
    double payment = principal * rate / (1.0 - pow(1.0 + rate, -n_periods));
    double balance = principal, interest_sum = 0.0;
    int period;

    for (period = 0; period < n_periods; period++) {
        double interest = balance * rate;
        interest_sum += interest;
        balance -= payment - interest;
    }

    *total_interest = interest_sum;
    return payment;
}
