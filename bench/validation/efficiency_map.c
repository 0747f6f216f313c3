#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Engine efficiency from a 5 x 5 calibration map over speed (rpm) and load (%), by bilinear
 * interpolation; operating points outside the map are clamped to its edges. */
static const double RPM_AXIS[5] = {1000.0, 2000.0, 3000.0, 4500.0, 6000.0};
static const double LOAD_AXIS[5] = {10.0, 30.0, 50.0, 75.0, 100.0};
static const double EFFICIENCY[5][5] = {
    {0.18, 0.24, 0.28, 0.30, 0.29},
    {0.21, 0.28, 0.33, 0.35, 0.34},
    {0.22, 0.30, 0.35, 0.37, 0.36},
    {0.20, 0.28, 0.33, 0.35, 0.33},
    {0.17, 0.24, 0.29, 0.31, 0.28},
};

static int segment(const double *axis, double v)
{
    int i = 0;
    while (i < 3 && v > axis[i + 1])
        i++;
    return i;
}

#pragma nsc range rpm 800 6500
#pragma nsc range load 5 100
double engine_efficiency(double rpm, double load)
{
    double r = rpm < RPM_AXIS[0] ? RPM_AXIS[0] : (rpm > RPM_AXIS[4] ? RPM_AXIS[4] : rpm);
    double l = load < LOAD_AXIS[0] ? LOAD_AXIS[0] : (load > LOAD_AXIS[4] ? LOAD_AXIS[4] : load);
    int i = segment(RPM_AXIS, r), j = segment(LOAD_AXIS, l);
    double tr = (r - RPM_AXIS[i]) / (RPM_AXIS[i + 1] - RPM_AXIS[i]);
    double tl = (l - LOAD_AXIS[j]) / (LOAD_AXIS[j + 1] - LOAD_AXIS[j]);
    double low = EFFICIENCY[i][j] * (1.0 - tl) + EFFICIENCY[i][j + 1] * tl;
    double high = EFFICIENCY[i + 1][j] * (1.0 - tl) + EFFICIENCY[i + 1][j + 1] * tl;
    return low * (1.0 - tr) + high * tr;
}
