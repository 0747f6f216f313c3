/* nsc stand-in for <stdarg.h> (parsing only; nsc rejects variadic target functions). */
#ifndef NSC_STDARG_H
#define NSC_STDARG_H
typedef char *va_list;
#define va_start(ap, last) ((void)(ap))
#define va_arg(ap, type) (*(type *)(ap))
#define va_end(ap) ((void)(ap))
#define va_copy(dst, src) ((void)((dst) = (src)))
#endif
