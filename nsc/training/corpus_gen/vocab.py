"""What generated programs are made of besides structure: name pools for each role, names to avoid (C
library identifiers), named constants and realistic input ranges."""

SCALAR_NAMES = ["x", "y", "z", "t", "u", "v", "w", "s", "r", "h", "a", "b", "c", "d", "k", "m", "p", "q",
                "dt", "dx", "rate", "gain", "alpha", "beta", "gamma_", "theta", "phi", "omega", "freq", "amp",
                "phase", "temp", "pres", "mass", "radius", "angle", "speed", "accel", "dist", "len", "width",
                "height", "depth", "load", "flow", "level", "weight", "bias", "scale", "offset", "sigma", "mu",
                "tau", "eps", "lambda", "rho", "kappa", "strike", "spot", "vol", "price", "cost", "qty", "ratio",
                "power", "energy", "volt", "curr", "res", "cap", "ind", "lum", "hue", "sat", "val", "red",
                "green", "blue", "px", "py", "pz", "vx", "vy", "vz", "x0", "x1", "x2", "t0", "t1", "lo", "hi",
                "step", "tol", "damp", "stiff", "visc", "dens", "conc", "humid", "wind", "elev", "lat", "lon"]
INT_NAMES = ["n", "mode", "k", "idx", "iters", "order", "steps", "level", "band", "kind", "sel", "count",
             "nbits", "channel", "zone", "tier", "bin", "lane", "phase_id", "ncoef", "degree", "quality"]
ARRAY_NAMES = ["a", "v", "w", "x", "coef", "samples", "buf", "vals", "pts", "q", "m", "src", "hist", "pix",
               "weights", "state", "in", "data", "g", "f"]
OUT_NAMES = ["out", "res", "result", "y", "dst", "o", "val", "grad", "deriv", "rate_out", "pos", "vel", "acc",
             "err", "lo_out", "hi_out", "mag", "ang", "sum_out", "flux", "rgb", "xyz", "comp"]
LOCAL_NAMES = ["tmp", "acc", "sum", "s", "d", "e", "f", "g", "scale", "norm", "ratio", "diff", "mid", "frac",
               "res", "val", "term", "base", "corr", "fac", "num", "den", "mag", "ang", "w", "q", "r", "tt", "uu",
               "xx", "yy", "zz", "arg", "lim", "pk", "gain2", "lvl", "adj", "delta", "slope", "bias2", "cur",
               "prev", "next", "est", "approx", "root", "err", "z1", "z2", "c1", "c2", "k1", "k2", "m1", "h1",
               "energy", "flux", "force", "drag", "heat", "loss", "score", "wsum", "mean", "var", "dev", "peak",
               "lowp", "highp", "blend", "mixv", "fade", "ramp", "step_", "ease", "smooth", "att", "decay", "grow"]
HELPER_NAMES = ["sq", "cube", "lerp", "clampd", "clampf", "sgn", "smooth", "ramp", "saturate", "wrap", "softplus",
                "sigmoid", "gauss", "kernel", "weight_fn", "profile", "response", "transfer", "shape_fn", "model",
                "eval_poly", "blend", "damp", "attenuate", "resid", "objective", "potential", "penalty",
                "activation", "curve", "law", "rate_fn", "mix", "norm2", "dist2", "fade", "bump", "window"]
CONST_NAMES = ["K", "GAIN", "SCALE", "OFFSET", "RATE", "ALPHA", "BETA", "EPS", "TOL", "LIMIT", "MAXV", "MINV",
               "C0", "C1", "C2", "C3", "KP", "KD", "KI", "DT", "TAU", "G", "RHO", "MU", "PI_F", "TWO_PI", "HALF",
               "THRESH", "CUTOFF", "BASE", "STEP", "DAMPING", "STIFFNESS", "REF", "NORM", "BIAS", "FACTOR"]
TABLE_NAMES = ["TABLE", "LUT", "COEFS", "WEIGHTS", "KNOTS", "CURVE", "TAPS", "BREAKS", "RATES", "GAINS", "POLY",
               "SAMPLES", "PROFILE", "LEVELS", "MATRIX", "M", "W", "H", "XS", "YS", "TBL", "CAL"]
FUNC_VERBS = ["compute", "eval", "calc", "update", "estimate", "apply", "filter", "solve", "model", "process",
              "transform", "step", "get", "measure", "predict", "score", "convert", "adjust", "integrate", "map"]
FUNC_NOUNS = ["flux", "gain", "response", "energy", "force", "pressure", "rate", "price", "signal", "output",
              "value", "state", "kernel", "curve", "weight", "density", "heat", "drag", "blend", "shade", "level",
              "index", "score", "cost", "load", "torque", "angle", "position", "velocity", "tone", "mix", "dose"]
AVOID = {"y0", "y1", "yn", "j0", "j1", "jn", "gamma", "index", "time", "div", "exp", "log", "pow", "abs", "fmin",
         "fmax", "round", "trunc", "remainder", "signbit", "isnan", "isinf", "floor", "ceil", "sin", "cos", "tan"}

NAMED_CONSTANTS = {"PI_F": 3.14159265, "TWO_PI": 6.28318531, "HALF": 0.5, "G": 9.81, "EPS": 1e-9, "TOL": 1e-6}

# (lo, hi) range families with realistic scales.
RANGES = [(0, 1), (-1, 1), (-10, 10), (0, 10), (1, 1000), (0.01, 0.5), (0, 6.28318), (-3.14159, 3.14159),
          (0, 100), (-50, 50), (273, 373), (0.1, 10), (0.001, 0.1), (0.5, 2), (-5, 5), (1, 10), (0, 0.25),
          (10, 200), (-100, 100), (0.2, 0.8), (-2, 2), (0, 5000), (1e-4, 1e-2), (0, 360), (-90, 90), (1, 5),
          (100, 10000), (-1e3, 1e3), (0.05, 3)]
INT_RANGES = [(0, 3), (0, 4), (0, 7), (1, 16), (1, 8), (0, 255), (-5, 5), (0, 100), (2, 12), (1, 4), (0, 1),
              (0, 9), (-10, 10), (1, 32), (0, 15)]
