/* The sandboxed child launcher.
 *
 * clone() with the namespaces asked for; in the child, before exec and with no Python
 * in between: descriptors, user-namespace id maps, a mount namespace with read-only
 * mounts and the private working directory at a fixed path, a fresh /proc, a new
 * session, rlimits, ASLR off, a wait for the parent (which opens the counters on the
 * child meanwhile), no_new_privs, the seccomp deny-list, exec. A failure is reported
 * through a close-on-exec pipe as (stage, errno) before the child exits 127. */
#define _GNU_SOURCE
#include "measure_native.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include "mp_seccomp.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#define NS_MASK (CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | \
                 CLONE_NEWUTS | CLONE_NEWCGROUP)

struct msg { int fatal, stage, err; };

static void report(int fd, int fatal, int stage, int err) {
    struct msg m = {fatal, stage, err};
    ssize_t r;
    do { r = write(fd, &m, sizeof m); } while (r < 0 && errno == EINTR);
}

static void fail(int fd, int stage) {
    report(fd, 1, stage, errno);
    _exit(127);
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t len = (ssize_t)strlen(text), r = write(fd, text, (size_t)len);
    int err = errno;
    close(fd);
    errno = err;
    return r == len ? 0 : -1;
}

static char *fmt_uint(char *p, unsigned v) { /* async-signal-safe decimal */
    char tmp[16];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static int map_ids(int uid, int gid) {
    char buf[64], *p;
    if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT) return -1;
    p = buf; *p++ = '0'; *p++ = ' '; p = fmt_uint(p, (unsigned)uid); *p++ = ' '; *p++ = '1'; *p = 0;
    if (write_file("/proc/self/uid_map", buf) < 0) return -1;
    p = buf; *p++ = '0'; *p++ = ' '; p = fmt_uint(p, (unsigned)gid); *p++ = ' '; *p++ = '1'; *p = 0;
    return write_file("/proc/self/gid_map", buf);
}

/* The deny-list: syscalls that read or steer other processes, counters, the kernel, or
 * that leave the namespaces. Everything else is allowed (a deny-list, so any CPython
 * and valgrind run unchanged); denied calls fail with EPERM, clone3 with ENOSYS so that
 * libc falls back to clone(), whose namespace flags are checked. */
static int install_seccomp(int socket_policy) {
    unsigned arch;
    if (mp_audit_arch(&arch) < 0) return -1;
    static const int denied[] = {
        SYS_perf_event_open, SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_bpf,
        SYS_mount, SYS_umount2, SYS_unshare, SYS_setns, SYS_pivot_root, SYS_kexec_load,
#ifdef SYS_kexec_file_load
        SYS_kexec_file_load,
#endif
        SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_keyctl, SYS_add_key,
        SYS_request_key, SYS_swapon, SYS_swapoff, SYS_reboot,
#ifdef SYS_fsopen
        SYS_fsopen, SYS_fsmount, SYS_move_mount, SYS_open_tree,
#endif
#ifdef SYS_userfaultfd
        SYS_userfaultfd,
#endif
#ifdef SYS_io_uring_setup /* io_uring performs socket and file operations that this filter never sees */
        SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
#endif
    };
    enum { ND = sizeof denied / sizeof denied[0] };
    struct sock_filter f[2 * ND + 24];
    int k = 0;
#define STMT(c, v) (f[k++] = (struct sock_filter)BPF_STMT((c), (v)))
#define JUMP(c, v, t, e) (f[k++] = (struct sock_filter)BPF_JUMP((c), (v), (t), (e)))
    STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM); /* foreign ABI (e.g. int 0x80) */
    STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1); /* x32 ABI aliases */
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
#endif
    for (int i = 0; i < ND; i++) {
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1);
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    }
#ifdef SYS_clone3
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
#endif
#ifdef SYS_getrandom /* randomness comes from /dev/urandom, which the private /dev makes a fixed stream */
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getrandom, 0, 1);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
#endif
    if (socket_policy) { /* socket(): only AF_INET/AF_INET6 in an empty network namespace, else nothing */
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, socket_policy == 1 ? 5 : 1);
        if (socket_policy == 1) {
            STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
            JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0);
            JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0);
        }
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES);
        if (socket_policy == 1) STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    }
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
    STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])); /* low 32 bits of flags */
    JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_MASK, 0, 1);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef STMT
#undef JUMP
    struct sock_fprog prog = {(unsigned short)k, f};
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* Move the fds the child keeps to their final numbers without clobbering one another. */
static int place_fds(const struct mp_spawn_spec *s, int *errfd, int *gofd) {
    int hi[MP_MAX_EVENTS + 8];
    int n = s->n_keep;
    if (n > MP_MAX_EVENTS) { errno = EINVAL; return -1; }
    int std[3] = {s->stdin_fd, s->stdout_fd, s->stderr_fd};
    int stdhi[3];
    for (int i = 0; i < 3; i++)
        if ((stdhi[i] = fcntl(std[i], F_DUPFD_CLOEXEC, 200)) < 0) return -1;
    for (int i = 0; i < n; i++)
        if ((hi[i] = fcntl(s->keep_fds[i], F_DUPFD_CLOEXEC, 200)) < 0) return -1;
    int ehi = fcntl(*errfd, F_DUPFD_CLOEXEC, 200), ghi = fcntl(*gofd, F_DUPFD_CLOEXEC, 200);
    if (ehi < 0 || ghi < 0) return -1;
    for (int i = 0; i < 3; i++)
        if (dup2(stdhi[i], i) < 0) return -1;
    for (int i = 0; i < n; i++)
        if (dup2(hi[i], 3 + i) < 0) return -1; /* dup2 clears FD_CLOEXEC: these survive exec */
    if (dup3(ehi, 3 + n, O_CLOEXEC) < 0 || dup3(ghi, 4 + n, O_CLOEXEC) < 0) return -1;
    *errfd = 3 + n;
    *gofd = 4 + n;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 5 + n, ~0U, 0) == 0) return 0;
#endif
    struct rlimit rl;
    long top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (long)rl.rlim_cur : 65536;
    for (long fd = 5 + n; fd < top; fd++) close((int)fd);
    return 0;
}

/* A fresh /dev: a small tmpfs holding binds of the harmless host devices and the usual links,
 * then made read-only. Nothing else of the host's /dev (kmsg, disks, shm, mqueue) is there.
 * random and urandom are /dev/zero: with getrandom() answering ENOSYS (install_seccomp), every
 * source of entropy a process has reads zeros, so every run draws the same "random" numbers
 * (Python's random.Random(), secrets, uuid4, numpy's default_rng() alike). */
static int private_dev(void) {
    static const char *const nodes[] = {"null", "zero", "full", "random", "urandom"};
    static const char *const from[] = {"null", "zero", "full", "zero", "zero"};
    enum { NN = sizeof nodes / sizeof nodes[0] };
    int fds[NN];
    char src[64], dst[64];
    for (int i = 0; i < NN; i++) { /* opened before the host's /dev is hidden */
        snprintf(src, sizeof src, "/dev/%s", from[i]);
        if ((fds[i] = open(src, O_PATH | O_CLOEXEC)) < 0) return -1;
    }
    if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=755") < 0) return -1;
    for (int i = 0; i < NN; i++) {
        snprintf(dst, sizeof dst, "/dev/%s", nodes[i]);
        int f = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        if (f < 0) return -1;
        close(f);
        snprintf(src, sizeof src, "/proc/self/fd/%d", fds[i]);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0) return -1;
        close(fds[i]);
    }
    if (symlink("/proc/self/fd", "/dev/fd") < 0 || symlink("/proc/self/fd/0", "/dev/stdin") < 0 ||
        symlink("/proc/self/fd/1", "/dev/stdout") < 0 || symlink("/proc/self/fd/2", "/dev/stderr") < 0 ||
        mkdir("/dev/shm", 0755) < 0)
        return -1;
    return mount(NULL, "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL);
}

static int mount_scratch(const struct mp_spawn_spec *s) {
    char opts[160];
    snprintf(opts, sizeof opts, "size=%llu,nr_inodes=4096,mode=700,uid=%d,gid=%d",
             (unsigned long long)s->scratch_bytes, s->run_uid >= 0 ? s->run_uid : 0,
             s->run_gid >= 0 ? s->run_gid : 0);
    return mount("tmpfs", s->scratch_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts);
}

static int mkdirs(const char *path) { /* mkdir -p, in a tmpfs we just made */
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Whether entry i is the first to name its cover (each cover is mounted, and sealed, once). */
static int first_cover(const struct mp_spawn_spec *s, int i) {
    for (int j = 0; j < i; j++)
        if (strcmp(s->expose_cover[i], s->expose_cover[j]) == 0) return 0;
    return 1;
}

static int expose(const struct mp_spawn_spec *s) {
    int fds[MP_MAX_EXPOSE];
    char src[64];
    if (s->n_expose > MP_MAX_EXPOSE) { errno = EINVAL; return -1; }
    for (int i = 0; i < s->n_expose; i++) /* opened before their covers hide them */
        if ((fds[i] = open(s->expose_path[i], O_PATH | O_CLOEXEC)) < 0) return -1;
    for (int i = 0; i < s->n_expose; i++) {
        if (first_cover(s, i) && mount("tmpfs", s->expose_cover[i], "tmpfs", MS_NOSUID | MS_NODEV,
                           "size=1m,nr_inodes=1024,mode=755") < 0)
            return -1;
    }
    for (int i = 0; i < s->n_expose; i++) {
        snprintf(src, sizeof src, "/proc/self/fd/%d", fds[i]);
        if (mkdirs(s->expose_path[i]) < 0 || mount(src, s->expose_path[i], NULL, MS_BIND | MS_REC, NULL) < 0)
            return -1;
        close(fds[i]);
    }
    for (int i = 0; i < s->n_expose; i++) {
        if (first_cover(s, i) && mount(NULL, s->expose_cover[i], NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
            return -1;
    }
    return 0;
}

static void child_main(const struct mp_spawn_spec *s, int errfd, int gofd) {
    if (place_fds(s, &errfd, &gofd) < 0) fail(errfd, MP_STAGE_FDS);
    if ((s->ns_flags & CLONE_NEWUSER) && map_ids(s->map_uid, s->map_gid) < 0) fail(errfd, MP_STAGE_USERNS);
    if (s->ns_flags & CLONE_NEWNS) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail(errfd, MP_STAGE_MOUNT_PRIVATE);
        if (s->mount_proc && (s->ns_flags & CLONE_NEWPID)) {
            if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                report(errfd, 0, MP_STAGE_MOUNT_PROC, errno);
            else if (mount("/proc/sys", "/proc/sys", NULL, MS_BIND, NULL) < 0 ||
                     mount(NULL, "/proc/sys", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID |
                           MS_NODEV | MS_NOEXEC, NULL) < 0)
                report(errfd, 0, MP_STAGE_MOUNT_PROC, errno);
        }
        /* bind first: a bind mount copies the read-only flag of the mount it comes from */
        if (s->inner_dir && mount(s->workdir, s->inner_dir, NULL, MS_BIND, NULL) < 0)
            fail(errfd, MP_STAGE_MOUNT_BIND);
        for (int i = 0; i < s->n_ro; i++)
            if (mount(NULL, s->ro_mounts[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | s->ro_flags[i], NULL) < 0)
                report(errfd, 0, MP_STAGE_MOUNT_RO, errno);
        if (s->n_expose && expose(s) < 0) fail(errfd, MP_STAGE_EXPOSE);
        /* after the read-only remounts: the bind copies their read-only flag */
        if (s->bind_src && mount(s->bind_src, s->bind_dst, NULL, MS_BIND | MS_REC, NULL) < 0)
            fail(errfd, MP_STAGE_EXPOSE);
        if (s->private_dev && private_dev() < 0) fail(errfd, MP_STAGE_DEV);
        if (s->scratch_dir && mount_scratch(s) < 0) fail(errfd, MP_STAGE_SCRATCH);
    }
    const char *dir = (s->inner_dir && (s->ns_flags & CLONE_NEWNS)) ? s->inner_dir : s->workdir;
    if (chdir(dir) < 0) fail(errfd, MP_STAGE_CHDIR);
    if (setsid() < 0) fail(errfd, MP_STAGE_SETSID);
    for (int i = 0; i < s->n_rlimits; i++) {
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = s->rl_value[i] == UINT64_MAX ? RLIM_INFINITY : (rlim_t)s->rl_value[i];
        if (setrlimit(s->rl_resource[i], &rl) < 0) fail(errfd, MP_STAGE_RLIMIT);
    }
    if (s->no_aslr && personality(ADDR_NO_RANDOMIZE) < 0) fail(errfd, MP_STAGE_PERSONALITY);
    char go;
    ssize_t r;
    do { r = read(gofd, &go, 1); } while (r < 0 && errno == EINTR);
    if (r != 1) _exit(126); /* the parent gave up (or died) before releasing us */
    close(gofd);
    if (s->run_uid >= 0) { /* an unprivileged uid: every capability goes with root */
        /* Raw system calls, not glibc's setgroups/setgid/setuid: those broadcast the change to every
         * thread glibc believes the process has, and this child of a raw clone() inherited the
         * parent's thread list (any multi-threaded caller: pytest-xdist, a ThreadPoolExecutor), so
         * they could wait forever on a lock or on threads that are not there. Credentials are per
         * thread in the kernel, and this process has one thread. */
        gid_t g = (gid_t)s->run_gid;
        uid_t u = (uid_t)s->run_uid;
        if (syscall(SYS_setgroups, 1, &g) < 0 || syscall(SYS_setresgid, g, g, g) < 0 ||
            syscall(SYS_setresuid, u, u, u) < 0)
            fail(errfd, MP_STAGE_SETUID);
    }
    /* after the uid change, which clears it */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail(errfd, MP_STAGE_PDEATHSIG);
    if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(errfd, MP_STAGE_NO_NEW_PRIVS);
    if (s->seccomp && install_seccomp(s->socket_policy) < 0) fail(errfd, MP_STAGE_SECCOMP);
    execve(s->path, s->argv, s->envp);
    fail(errfd, MP_STAGE_EXEC);
}

static pid_t clone_fork(int flags) {
    /* a raw clone with no stack behaves like fork(), with namespaces */
    return (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, NULL, NULL, NULL);
}

int mp_spawn(const struct mp_spawn_spec *s, struct mp_spawn_result *res) {
    memset(res, 0, sizeof *res);
    res->pid = -1;
    res->counter_failed_index = -1;
    for (int i = 0; i < MP_MAX_EVENTS; i++) res->counter_fds[i] = -1;
    if (s->n_events < 0 || s->n_events > MP_MAX_EVENTS) return -EINVAL;
    int errp[2], gop[2];
    if (pipe2(errp, O_CLOEXEC) < 0) return -errno;
    if (pipe2(gop, O_CLOEXEC) < 0) { int e = errno; close(errp[0]); close(errp[1]); return -e; }
    pid_t pid = clone_fork(s->ns_flags & NS_MASK);
    if (pid < 0) {
        int e = errno;
        close(errp[0]); close(errp[1]); close(gop[0]); close(gop[1]);
        res->error_stage = MP_STAGE_CLONE;
        res->error_errno = e;
        return -e;
    }
    if (pid == 0) {
        close(errp[0]);
        close(gop[1]);
        child_main(s, errp[1], gop[0]);
        _exit(127);
    }
    close(errp[1]);
    close(gop[0]);
    res->pid = pid;
    if (s->cgroup_procs) { /* before it runs: everything it forks is counted against pids.max */
        char buf[24], *e = fmt_uint(buf, (unsigned)pid);
        int fd = open(s->cgroup_procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, buf, (size_t)(e - buf)) != e - buf) {
            res->warn_stage[res->n_warn] = MP_STAGE_CGROUP;
            res->warn_errno[res->n_warn++] = errno;
        }
        if (fd >= 0) close(fd);
    }
    if (s->n_events > 0) {
        int rc = mp_perf_open_group(s->ev_types, s->ev_configs, s->n_events, pid, -1, s->ev_inherit,
                                    s->ev_enable_on_exec, s->ev_pinned, 0, res->counter_fds,
                                    res->counter_ids, &res->counter_failed_index);
        if (rc < 0) res->counter_errno = -rc;
    }
    if (res->counter_errno == 0) {
        char go = 'g';
        ssize_t w;
        do { w = write(gop[1], &go, 1); } while (w < 0 && errno == EINTR);
    }
    close(gop[1]); /* without the byte the child exits 126 */
    struct msg m;
    ssize_t r;
    for (;;) { /* EOF: exec happened (the pipe is close-on-exec) or the child exited */
        r = read(errp[0], &m, sizeof m);
        if (r < 0 && errno == EINTR) continue;
        if (r != (ssize_t)sizeof m) break;
        if (m.fatal) {
            res->error_stage = m.stage;
            res->error_errno = m.err;
        } else if (res->n_warn < MP_MAX_WARN) {
            res->warn_stage[res->n_warn] = m.stage;
            res->warn_errno[res->n_warn] = m.err;
            res->n_warn++;
        }
    }
    close(errp[0]);
    if (res->error_stage || res->counter_errno) {
        int st;
        kill(pid, SIGKILL);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        mp_close_fds(res->counter_fds, MP_MAX_EVENTS);
        for (int i = 0; i < MP_MAX_EVENTS; i++) res->counter_fds[i] = -1;
        res->pid = -1;
        return res->counter_errno ? -res->counter_errno : -res->error_errno;
    }
    return 0;
}

int mp_kill_tree(int pid, int own_pid_namespace) {
    /* The init of a PID namespace takes every process in it along; without one, the new
     * session's process group is the best we have (a descendant that called setsid() escapes). */
    if (!own_pid_namespace) kill(-pid, SIGKILL);
    return kill(pid, SIGKILL) < 0 ? -errno : 0;
}

static void fill(struct mp_wait_result *res, int st, const struct rusage *ru) {
    res->exited = WIFEXITED(st);
    res->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    res->signaled = WIFSIGNALED(st);
    res->term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    res->maxrss_kb = ru->ru_maxrss;
    res->utime_s = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6;
    res->stime_s = (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int mp_wait(int pid, int timeout_ms, int own_pid_namespace, struct mp_wait_result *res) {
    memset(res, 0, sizeof *res);
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    double deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
    int pfd = -1;
#ifdef SYS_pidfd_open
    pfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
    for (;;) {
        pid_t w = wait4(pid, &st, WNOHANG, &ru);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) { int e = errno; if (pfd >= 0) close(pfd); return -e; }
        double left = deadline < 0 ? 1000 : deadline - now_ms();
        if (deadline >= 0 && left <= 0) {
            res->timed_out = 1;
            mp_kill_tree(pid, own_pid_namespace);
            while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {}
            break;
        }
        if (pfd >= 0) {
            struct pollfd p = {pfd, POLLIN, 0};
            poll(&p, 1, left > 1000 ? 1000 : (int)left + 1);
        } else {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (pfd >= 0) close(pfd);
    if (!own_pid_namespace) kill(-pid, SIGKILL); /* stragglers in the session's group */
    fill(res, st, &ru);
    return 0;
}

int mp_probe_namespaces(int ns_flags, int map_uid, int map_gid) {
    /* Can a child get these namespaces (and, with a user namespace, map its ids)? */
    pid_t pid = clone_fork(ns_flags & NS_MASK);
    if (pid < 0) return -errno;
    if (pid == 0) {
        if ((ns_flags & CLONE_NEWUSER) && map_ids(map_uid, map_gid) < 0) _exit(1);
        if ((ns_flags & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) _exit(2);
        _exit(0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) if (errno != EINTR) return -errno;
    if (!WIFEXITED(st)) return -ECHILD;
    return WEXITSTATUS(st) == 0 ? 0 : -EPERM;
}
