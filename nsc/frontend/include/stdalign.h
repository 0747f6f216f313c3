/* nsc stand-in for <stdalign.h>. */
#ifndef NSC_STDALIGN_H
#define NSC_STDALIGN_H
#define alignas _Alignas
#define alignof _Alignof
#endif
