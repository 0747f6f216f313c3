/* nsc stand-in for <tgmath.h> (parsing only): the type-generic names are math.h's double functions. */
#include <math.h>
