#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Logistic population growth under constant-effort harvesting, 100 explicit Euler steps of 0.1 year;
 * returns the final population and writes the total harvest. The population never goes below zero. */
#define STEPS 100
#define DT 0.1

#pragma nsc range growth_rate 0.1 1.5
#pragma nsc range capacity 500 5000
#pragma nsc range effort 0 0.8
#pragma nsc range initial 10 1000
double logistic_harvest(double growth_rate, double capacity, double effort, double initial, double *harvested)
{
    double p = initial, total = 0.0;
    int step;

    for (step = 0; step < STEPS; step++) {
        double catch_ = effort * p;
        double dp = growth_rate * p * (1.0 - p / capacity) - catch_;
        p += DT * dp;
        if (p < 0.0)
            p = 0.0;
        total += DT * catch_;
    }
    *harvested = total;
    return p;
}
