"""The sandbox launcher: a small C program that starts a harness in its own Linux namespaces.

sandbox.py starts the launcher instead of the harness where namespaces are allowed; build.py compiles it once per
C compiler (cached beside the runtime object). It is a program of its own, never linked with the user's code, so
nothing in the user's file (a constructor that runs before main, a function named `mount` or `unshare` that would
replace libc's) can act before the sandbox is in place: the harness is exec'd inside it.

    nsc-sandbox REPORT_FD PARENT_PID HARNESS_EXE HARNESS_ARGV0 HARNESS_ARGS...

Steps, each of which the kernel may refuse:
  1. unshare(2) a user namespace (so no privilege is needed; the caller's uid and gid map to themselves), and in
     it a mount, network, IPC, UTS and PID namespace;
  2. a new root: a small tmpfs mounted on the working directory nsc made, holding read-only recursive binds of the
     system's program and library directories (SYSTEM_PATHS; their symlinks copied as symlinks), binds of the
     harmless devices (DEVICES), and /tmp, a tmpfs of SCRATCH_MB MiB: the working directory, the one writable
     place. pivot_root(2) into it and detach the old root, so nothing else of the file system is reachable;
     the new root is then remounted read-only;
  3. every capability dropped (bounding set too) and no_new_privs, so the harness cannot undo the mounts;
  4. fork: the child is PID 1 of the new PID namespace, a minimal init; it forks the worker, which exec's the
     harness (from a file descriptor opened before the pivot) with the given arguments. When init exits, the
     kernel kills whatever else is left in the namespace (a setsid() daemon included).
The launcher's first process stays outside the PID namespace, as nsc's child: it waits for init, which passes on
the worker's wait status through a pipe, and ends the same way (exit code or signal), so sandbox.py reads the
harness's fate exactly as when it runs it directly. The new network namespace holds only a loopback that is
down: no address, no route, no connection anywhere.

Where a step fails, the launcher writes "STEP ERRNO" to REPORT_FD and exits REFUSED_STATUS; sandbox.py then runs
the harness without namespaces (rlimits only) and says why (`refusal_reason`). REPORT_FD is close-on-exec and
held by no process running the user's code, so a program cannot fake a refusal to get out of the sandbox.
"""

from __future__ import annotations

import errno
import os

LAUNCHER_NAME = "nsc-sandbox"
REFUSED_STATUS = 89
SCRATCH_MB = 64
# What the harness may see (read-only), where present: programs, libraries (and the dynamic loader), the
# loader's cache. Not /etc, /home, /root, /tmp, /var, /proc, /sys or anything else.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/nix/store",
                "/etc/ld.so.cache")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")

# (C name, what failed) in report order: STEP ERRNO in the report names the step by its 1-based index.
STEPS = (
    ("STEP_OPEN", "opening the harness"),
    ("STEP_UNSHARE", "creating user, mount, network and PID namespaces (unshare)"),
    ("STEP_ID_MAP", "mapping the user and group ids into the user namespace"),
    ("STEP_PRIVATE", "making the mounts private"),
    ("STEP_ROOT", "mounting the new root (tmpfs)"),
    ("STEP_BIND", "binding the system directories read-only"),
    ("STEP_DEVICES", "binding /dev/null and the other devices"),
    ("STEP_SCRATCH", "mounting the scratch directory (tmpfs)"),
    ("STEP_PIVOT", "pivot_root into the new root"),
    ("STEP_CAPS", "dropping capabilities"),
    ("STEP_FORK", "starting the namespace's processes (fork)"),
    ("STEP_EXEC", "starting the harness inside the namespaces (execve)"),
)


def refusal_reason(report: bytes) -> str | None:
    """The launcher's report ("STEP ERRNO\\n") in words, or None when it reported nothing (or nonsense)."""
    try:
        step, code = (int(v) for v in report.decode("ascii").split())
    except ValueError:
        return None
    if not 1 <= step <= len(STEPS):
        return None
    name = errno.errorcode.get(code, str(code))
    return f"{STEPS[step - 1][1]} failed: {os.strerror(code)} ({name})"


def _c_list(paths) -> str:
    return "{" + ", ".join(f'"{p}"' for p in paths) + ", NULL}"


LAUNCHER_SOURCE = r"""/* nsc sandbox launcher (generated from nsc/execute/namespaces.py; see the steps there). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

@STEPS@

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
/* mount_setattr(2), Linux 5.12: its number is the same on every architecture but alpha. */
#if !defined(SYS_mount_setattr) && !defined(__alpha__)
#define SYS_mount_setattr 442
#endif
#if !defined(SYS_close_range) && !defined(__alpha__)
#define SYS_close_range 436
#endif
#ifdef NSC_NO_MOUNT_SETATTR  /* (tests build the launcher so to take the path of kernels before 5.12) */
#undef SYS_mount_setattr
#endif

extern char **environ;
static int report_fd = -1;

/* Say which step failed (and errno), then stop: nsc runs the harness without namespaces instead. */
static void refuse(int step) __attribute__((noreturn));
static void refuse(int step) {
    char line[64];
    int n = snprintf(line, sizeof line, "%d %d\n", step, errno);
    if (write(report_fd, line, (size_t)n) < 0) _exit(@REFUSED_STATUS@);
    _exit(@REFUSED_STATUS@);
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Close every descriptor from 3 up but `keep` (close_range(2), Linux 5.9; else one by one). */
static void close_fds_except(int keep) {
#ifdef SYS_close_range
    if ((keep == 3 || syscall(SYS_close_range, 3U, (unsigned)keep - 1U, 0U) == 0) &&
        syscall(SYS_close_range, (unsigned)keep + 1U, ~0U, 0U) == 0) return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max > 0 ? max : 1024); fd++)
        if (fd != keep) close((int)fd);
}

/* dst: a read-only recursive bind of src (a directory or a file). */
static int bind_read_only(const char *src, const char *dst) {
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0) return -1;
#ifdef SYS_mount_setattr
    struct { uint64_t attr_set, attr_clr, propagation, userns_fd; } attr = {1 /* MOUNT_ATTR_RDONLY */, 0, 0, 0};
    if (syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_RECURSIVE, &attr, sizeof attr) == 0) return 0;
    if (errno != ENOSYS) return -1;
#endif
    /* Before Linux 5.12: the top mount alone (a user namespace refuses this where src has mounts below it),
       remounted read-only with the flags a user namespace may not clear. */
    if (umount2(dst, MNT_DETACH) != 0 || mount(src, dst, NULL, MS_BIND, NULL) != 0) return -1;
    struct statvfs sv;
    if (statvfs(dst, &sv) != 0) return -1;
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
    if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    return mount(NULL, dst, NULL, flags, NULL);
}

/* root/path: a parent directory for it (for /nix/store, /etc/ld.so.cache), then a directory, a file or a
   symlink of the same kind as path. 0: made; 1: path is absent; -1: failed. */
static int make_like(const char *root, const char *path, struct stat *st, char *out, size_t size) {
    if (lstat(path, st) != 0) return 1;
    snprintf(out, size, "%s%s", root, path);
    for (char *slash = strchr(out + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = 0;
        int made = mkdir(out, 0755);
        *slash = '/';
        if (made != 0 && errno != EEXIST) return -1;
    }
    if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) return -1;
        target[n] = 0;
        return symlink(target, out);
    }
    if (S_ISDIR(st->st_mode)) return mkdir(out, 0755);
    int fd = open(out, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

static void build_root(const char *root) {
    static const char *const system_paths[] = @SYSTEM_PATHS@;
    static const char *const devices[] = @DEVICES@;
    char path[PATH_MAX + 64];
    struct stat st;
    if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=256,mode=0755") != 0)
        refuse(STEP_ROOT);
    for (int i = 0; system_paths[i]; i++) {
        int made = make_like(root, system_paths[i], &st, path, sizeof path);
        if (made < 0) refuse(STEP_BIND);
        if (made == 0 && !S_ISLNK(st.st_mode) && bind_read_only(system_paths[i], path) != 0) refuse(STEP_BIND);
    }
    for (int i = 0; devices[i]; i++) {
        if (lstat(devices[i], &st) != 0 || !S_ISCHR(st.st_mode)) continue;
        if (make_like(root, devices[i], &st, path, sizeof path) != 0) refuse(STEP_DEVICES);
        if (mount(devices[i], path, NULL, MS_BIND, NULL) != 0) refuse(STEP_DEVICES);
    }
    snprintf(path, sizeof path, "%s/tmp", root);
    if (mkdir(path, 01777) != 0 ||
        mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=@SCRATCH_MB@m,nr_inodes=4096,mode=1777") != 0)
        refuse(STEP_SCRATCH);
    /* Into the new root; the old one detached (nothing holds it: no descriptor of a directory is open). */
    if (chdir(root) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 ||
        chdir("/") != 0)
        refuse(STEP_PIVOT);
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
        refuse(STEP_ROOT);
    if (chdir("/tmp") != 0) refuse(STEP_SCRATCH);
}

static void drop_capabilities(void) {
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) refuse(STEP_CAPS);
    struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &head, data) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) refuse(STEP_CAPS);
}

/* End as the worker ended: the same exit status, or death by the same signal (no core: not dumpable). */
static void end_like(int status) __attribute__((noreturn));
static void end_like(int status) {
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        signal(sig, SIG_DFL);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        _exit(128 + sig);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 99);
}

/* The first process, nsc's child: wait for init, which sends the worker's wait status, and end like it. */
static void outside(pid_t init, int status_r) __attribute__((noreturn));
static void outside(pid_t init, int status_r) {
    close_fds_except(status_r);
    int worker_status = 0, own = 0;
    ssize_t got;
    while ((got = read(status_r, &worker_status, sizeof worker_status)) < 0 && errno == EINTR) {}
    while (waitpid(init, &own, 0) < 0 && errno == EINTR) {}
    end_like(got == (ssize_t)sizeof worker_status ? worker_status : own);
}

/* PID 1 of the namespace: start the worker (the harness), reap every orphan, report the worker's end. */
static void init_process(int exe_fd, char **harness_argv, int status_w) __attribute__((noreturn));
static void init_process(int exe_fd, char **harness_argv, int status_w) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pid_t worker = fork();
    if (worker < 0) refuse(STEP_FORK);
    if (worker == 0) {
        fexecve(exe_fd, harness_argv, environ);  /* closes exe_fd, report_fd and status_w (close-on-exec) */
        refuse(STEP_EXEC);
    }
    close_fds_except(status_w);
    int status = 0;
    for (;;) {
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == worker) break;
        if (pid < 0 && errno != EINTR) {
            status = 99 << 8;
            break;
        }
    }
    if (write(status_w, &status, sizeof status) < 0) _exit(99);
    _exit(0);  /* and the kernel kills the rest of the namespace */
}

int main(int argc, char **argv) {
    if (argc < 5) return 90;
    report_fd = atoi(argv[1]);
    pid_t parent = (pid_t)atoll(argv[2]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) return 91;
    if (fcntl(report_fd, F_SETFD, FD_CLOEXEC) != 0) return 92;

    int exe_fd = open(argv[3], O_RDONLY | O_CLOEXEC);
    if (exe_fd < 0) refuse(STEP_OPEN);
    char root[PATH_MAX];
    if (getcwd(root, sizeof root) == NULL) refuse(STEP_ROOT);
    uid_t uid = geteuid();
    gid_t gid = getegid();

    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID) != 0)
        refuse(STEP_UNSHARE);
    char map[64];
    if (write_file("/proc/self/setgroups", "deny") != 0 && errno != ENOENT) refuse(STEP_ID_MAP);
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) != 0) refuse(STEP_ID_MAP);
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) != 0) refuse(STEP_ID_MAP);
    prctl(PR_SET_DUMPABLE, 0);  /* (after the maps: a process that is not dumpable cannot write its own) */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);

    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) refuse(STEP_PRIVATE);
    build_root(root);
    drop_capabilities();
    /* The new user namespace's credentials cleared the parent-death signal: set it again (and check that nsc
       has not gone meanwhile). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(91);

    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) refuse(STEP_FORK);
    pid_t init = fork();
    if (init < 0) refuse(STEP_FORK);
    if (init > 0) outside(init, status_pipe[0]);
    close(status_pipe[0]);
    init_process(exe_fd, argv + 4, status_pipe[1]);
}
"""

LAUNCHER_SOURCE = (LAUNCHER_SOURCE
                   .replace("@STEPS@", "\n".join(f"#define {name} {k}" for k, (name, _) in enumerate(STEPS, 1)))
                   .replace("@SYSTEM_PATHS@", _c_list(SYSTEM_PATHS))
                   .replace("@DEVICES@", _c_list(DEVICES))
                   .replace("@SCRATCH_MB@", str(SCRATCH_MB))
                   .replace("@REFUSED_STATUS@", str(REFUSED_STATUS)))
