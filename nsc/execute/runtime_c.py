"""The fixed C half of every harness: process set-up, limits, the batch loop, fault notes.

It is compiled once per C compiler into an object file (build.py caches it) and linked with the generated
unit (harness.py), which supplies the call stubs `nsc__stubs[]`. It is kept apart from the user's code so
that the user's macros and -D flags cannot break the system headers it needs, and so that it is not
recompiled for every program.

Protocol with the parent (sandbox.py, which holds the matching layout):
  argv: CMD_FD ACK_FD MEM_FD AS_LIMIT_BYTES PARENT_PID (nsc's pid; 1, the namespace's init, where the sandbox
  launcher of namespaces.py starts the harness inside namespaces)
  MEM_FD is a shared memory region: a header of int64 fields (HEADER_FIELDS below), then the input and output
  batches as float64 at the byte offsets the header gives. For each batch the parent fills the header and the
  inputs and writes one byte to CMD_FD; the child calls the stub on every row, storing the number of rows done
  after each one (so a crash or a hang can be pinned to its row), and answers one byte on ACK_FD.
  EOF on CMD_FD means: no more work, exit 0.
"""

# Field order of the shared header; sandbox.py builds its offsets from this tuple.
HEADER_FIELDS = (
    "magic",        # HEADER_MAGIC, checked by the child
    "func",         # stub index for this batch
    "n_rows",       # rows in this batch
    "n_in",         # input row stride (float64 values)
    "n_out",        # output row stride
    "in_offset",    # byte offset of the input batch in the region
    "out_offset",   # byte offset of the output batch
    "cpu_budget",   # seconds of CPU time this batch may use (a backstop; hangs are caught by the parent)
    "done",         # rows finished in this batch (written by the child after every row)
    "fault",        # FAULT_* note written by the child just before it dies
    "stack_limit",  # the child's stack limit in bytes (written by the child, for messages)
)
HEADER_MAGIC = 0x6E73635F68726E31  # "nsc_hrn1"
HEADER_BYTES = 4096
FAULT_NONE, FAULT_STACK, FAULT_NO_MEMORY = 0, 1, 2


def _c_header_struct() -> str:
    fields = "\n".join(f"    volatile int64_t {name};" for name in HEADER_FIELDS)
    return f"struct nsc__header {{\n{fields}\n}};"


RUNTIME_SOURCE = r"""/* nsc harness runtime (generated from nsc/execute/runtime_c.py; see the protocol there). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

typedef void (*nsc__stub_t)(const double *, double *);
extern const nsc__stub_t nsc__stubs[];   /* from the generated unit */
extern const long nsc__n_stubs;

@HEADER_STRUCT@

static struct nsc__header *nsc__hdr;
static char *nsc__stack_top;
static int64_t nsc__stack_limit;
static char nsc__altstack[1 << 16];

/* Called from the linker-wrapped allocators (-Wl,--wrap=...) of the user's code: remember that memory ran out,
   so that the crash which usually follows is reported as what it is. */
static void nsc__note_no_memory(void) {
    if (nsc__hdr) nsc__hdr->fault = @FAULT_NO_MEMORY@;
}
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void *__wrap_malloc(size_t n) {
    void *p = __real_malloc(n);
    if (!p && n) nsc__note_no_memory();
    return p;
}
void *__wrap_calloc(size_t n, size_t m) {
    void *p = __real_calloc(n, m);
    if (!p && n && m) nsc__note_no_memory();
    return p;
}
void *__wrap_realloc(void *q, size_t n) {
    void *p = __real_realloc(q, n);
    if (!p && n) nsc__note_no_memory();
    return p;
}

/* The stack pointer at the fault, where the architecture lets us read it. */
static char *nsc__fault_sp(void *ctx) {
    ucontext_t *uc = (ucontext_t *)ctx;
#if defined(__x86_64__)
    return (char *)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (char *)uc->uc_mcontext.sp;
#else
    (void)uc;
    return NULL;
#endif
}

/* SIGSEGV/SIGBUS on the alternate stack: note a stack overflow (the stack pointer, or the fault address, is
   beyond the stack's limit), then die of the same signal with the default action. */
static void nsc__on_fault(int sig, siginfo_t *info, void *ctx) {
    char *addr = (char *)info->si_addr, *sp = nsc__fault_sp(ctx);
    char *floor = nsc__stack_top - nsc__stack_limit;
    int beyond_sp = sp != NULL && sp < floor + 4096;
    int beyond_addr = addr <= nsc__stack_top && addr >= floor - (1 << 20);
    if (nsc__hdr && (beyond_sp || beyond_addr)) nsc__hdr->fault = @FAULT_STACK@;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void nsc__set_limit(int resource, rlim_t soft) {
    struct rlimit lim;
    if (getrlimit(resource, &lim) != 0) return;
    if (lim.rlim_max != RLIM_INFINITY && soft > lim.rlim_max) soft = lim.rlim_max;
    lim.rlim_cur = soft;
    setrlimit(resource, &lim);
}

/* RLIMIT_CPU is a backstop in case the parent cannot stop us: allow this batch its budget beyond what is used. */
static void nsc__set_cpu_budget(int64_t seconds) {
    struct rusage use;
    if (seconds <= 0 || getrusage(RUSAGE_SELF, &use) != 0) return;
    nsc__set_limit(RLIMIT_CPU, (rlim_t)(use.ru_utime.tv_sec + use.ru_stime.tv_sec + seconds + 1));
}

int main(int argc, char **argv) {
    char here;
    nsc__stack_top = &here;
    if (argc != 6) return 90;
    int cmd_fd = atoi(argv[1]), ack_fd = atoi(argv[2]), mem_fd = atoi(argv[3]);
    long long as_limit = atoll(argv[4]);
    pid_t parent = (pid_t)atoll(argv[5]);

    /* Die with the parent; never dump core. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) return 91;
    prctl(PR_SET_DUMPABLE, 0);
    nsc__set_limit(RLIMIT_CORE, 0);
    /* Output to the log file is capped; writes past the cap fail instead of killing the program. */
    signal(SIGXFSZ, SIG_IGN);
    nsc__set_limit(RLIMIT_FSIZE, 1 << 20);

    struct stat st;
    if (fstat(mem_fd, &st) != 0) return 92;
    char *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, 0);
    if (base == MAP_FAILED) return 93;
    struct nsc__header *h = (struct nsc__header *)base;
    if (h->magic != @HEADER_MAGIC@LL) return 94;

    struct rlimit stack;
    if (getrlimit(RLIMIT_STACK, &stack) == 0 && stack.rlim_cur != RLIM_INFINITY) {
        nsc__stack_limit = (int64_t)stack.rlim_cur;
    } else {
        nsc__stack_limit = (int64_t)1 << 30;
        nsc__set_limit(RLIMIT_STACK, (rlim_t)nsc__stack_limit);
    }
    h->stack_limit = nsc__stack_limit;
    stack_t alt = {.ss_sp = nsc__altstack, .ss_size = sizeof nsc__altstack, .ss_flags = 0};
    sigaltstack(&alt, NULL);
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_sigaction = nsc__on_fault;
    act.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &act, NULL);
    sigaction(SIGBUS, &act, NULL);
    if (as_limit > 0) nsc__set_limit(RLIMIT_AS, (rlim_t)as_limit);
    nsc__hdr = h;

    for (;;) {
        char cmd;
        ssize_t got = read(cmd_fd, &cmd, 1);
        if (got == 0) return 0;
        if (got < 0) {
            if (errno == EINTR) continue;
            return 95;
        }
        int64_t func = h->func, n = h->n_rows, n_in = h->n_in, n_out = h->n_out;
        if (func < 0 || func >= nsc__n_stubs) return 96;
        nsc__stub_t stub = nsc__stubs[func];
        const double *in = (const double *)(base + h->in_offset);
        double *out = (double *)(base + h->out_offset);
        nsc__set_cpu_budget(h->cpu_budget);
        for (int64_t i = 0; i < n; i++) {
            stub(in + i * n_in, out + i * n_out);
            __atomic_store_n(&h->done, i + 1, __ATOMIC_RELEASE);
        }
        while (write(ack_fd, "k", 1) < 0) {
            if (errno != EINTR) return 97;
        }
    }
}
"""

RUNTIME_SOURCE = (RUNTIME_SOURCE
                  .replace("@HEADER_STRUCT@", _c_header_struct())
                  .replace("@HEADER_MAGIC@", str(HEADER_MAGIC))
                  .replace("@FAULT_STACK@", str(FAULT_STACK))
                  .replace("@FAULT_NO_MEMORY@", str(FAULT_NO_MEMORY)))
