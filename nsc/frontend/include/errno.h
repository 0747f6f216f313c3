/* nsc stand-in for <errno.h> (parsing only). */
#ifndef NSC_ERRNO_H
#define NSC_ERRNO_H
extern int errno;
#define EDOM 33
#define EILSEQ 84
#define ERANGE 34
#endif
