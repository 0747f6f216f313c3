#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* A savings plan: an initial balance plus a fixed deposit at the end of every month, with interest
 * compounded monthly at a whole-number annual percentage rate, simulated month by month for a whole number
 * of years (the loop runs 12 * years times, so its length is an input). Returns the final balance and
 * writes the total interest earned.
 *
 * Source: msmyer/eng_comp, Practice/exercises/main.c (the month loop to 12*year with balance *= 1 +
 * (rate/100)/12; balance += MONTHLY, for integer rates), rewritten as a function with an initial balance. */

#pragma nsc range monthly_deposit 0 1000
#pragma nsc range initial_balance 0 20000
#pragma nsc range rate_percent 1 8
#pragma nsc range years 1 30
double savings_plan(double monthly_deposit, double initial_balance, int rate_percent, int years,
                    double *total_interest)
{
    double monthly_factor = 1.0 + (rate_percent / 100.0) / 12.0;
    double balance = initial_balance;
    int month;

    for (month = 1; month <= 12 * years; month++) {
        balance *= monthly_factor;
        balance += monthly_deposit;
    }
    *total_interest = balance - initial_balance - 12.0 * years * monthly_deposit;
    return balance;
}
