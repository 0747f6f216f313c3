/* nsc: force-included before every program (cc -include) so that pycparser, which reads ISO C99/C11, can parse
 * the GNU spellings common in numeric code. Only for parsing: the native harness compiles the original. */
#define __attribute__(x)
#define __attribute(x)
#define __declspec(x)
#define __extension__
#define __asm__(x)
#define __asm(x)
#define __inline__ inline
#define __inline inline
#define __forceinline inline
#define __restrict__ restrict
#define __restrict restrict
#define __volatile__ volatile
#define __volatile volatile
#define __const const
#define __const__ const
#define __signed__ signed
#define __signed signed
#define __alignof__ _Alignof
#define __alignof _Alignof
#define __thread _Thread_local
#define __builtin_expect(x, y) (x)
#define __builtin_assume_aligned(p, ...) (p)
#define _Float32 float
#define _Float64 double
#define _Float32x double
#define _Float64x long double
