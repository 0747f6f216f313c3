#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */
/* Heat conduction along a rod of 6 interior cells between two walls held at fixed temperatures: the explicit
 * forward-time centred-space (FTCS) scheme u_i <- r (u_{i-1} + u_{i+1}) + (1 - 2r) u_i with diffusion
 * number r = 0.4 (stable for r <= 0.5), 40 time steps. Returns the temperature at the rod's middle (mean of
 * the two central cells) and writes the mean interior temperature and the heat flux into the left wall
 * (W/m^2, conductivity 50 W/(m K), cell size 1 cm).
 *
 * Source: g0321143/NumericalCalculationSampleProgram, prog6-1.c (FTCS for the heat equation with Dirichlet
 * ends, w[i] = r*(u[i+1]+u[i-1]) + s*u[i]), rewritten with the initial profile and the wall temperatures as
 * inputs. */
#define CELLS 6
#define STEPS 40
#define DIFFUSION_NUMBER 0.4
#define CONDUCTIVITY 50.0
#define CELL_SIZE 0.01

#pragma nsc range u0 0 100
#pragma nsc range t_left 0 100
#pragma nsc range t_right 0 100
double heat_rod(const double u0[CELLS], double t_left, double t_right, double *mean, double *left_flux)
{
    double u[CELLS + 2], next[CELLS + 2];
    double sum = 0.0;
    int i, step;

    u[0] = next[0] = t_left;
    u[CELLS + 1] = next[CELLS + 1] = t_right;
    for (i = 0; i < CELLS; i++)
        u[i + 1] = u0[i];

    for (step = 0; step < STEPS; step++) {
        for (i = 1; i <= CELLS; i++)
            next[i] = DIFFUSION_NUMBER * (u[i - 1] + u[i + 1]) + (1.0 - 2.0 * DIFFUSION_NUMBER) * u[i];
        for (i = 1; i <= CELLS; i++)
            u[i] = next[i];
    }

    for (i = 1; i <= CELLS; i++)
        sum += u[i];
    *mean = sum / CELLS;
    *left_flux = CONDUCTIVITY * (u[1] - t_left) / CELL_SIZE;
    return 0.5 * (u[CELLS / 2] + u[CELLS / 2 + 1]);
}
