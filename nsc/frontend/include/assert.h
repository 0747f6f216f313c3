/* nsc stand-in for <assert.h> (parsing only). The condition stays in the program text so that what it calls
 * is reached; the native harness uses the real assert. */
#undef assert
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((void)(e))
#endif
#ifndef NSC_ASSERT_H
#define NSC_ASSERT_H
#define static_assert _Static_assert
#endif
