/* nsc stand-in for <stdnoreturn.h>. */
#ifndef NSC_STDNORETURN_H
#define NSC_STDNORETURN_H
#define noreturn _Noreturn
#endif
