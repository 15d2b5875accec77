"""cffi builder (API mode) for ``measure._native``: compiled from ``native/*.c`` at install time."""
from pathlib import Path

from cffi import FFI

# relative to the project root, where setup.py runs (setuptools refuses absolute source paths)
NATIVE = Path("native")

CDEF = """
#define MP_MAX_EVENTS 16
#define MP_MAX_WARN 16
int mp_perf_open_group(const uint32_t *types, const uint64_t *configs, int n, int pid, int cpu,
                       int inherit, int enable_on_exec, int pinned, int start_enabled,
                       int *fds, uint64_t *ids, int *failed_index);
int mp_perf_ioctl(int leader_fd, int op);
int mp_perf_read_group(int leader_fd, int n, uint64_t *values, uint64_t *ids,
                       uint64_t *time_enabled, uint64_t *time_running, int *scaled);
int mp_perf_parse_group(const uint64_t *buf, size_t nbytes, int n, uint64_t *values, uint64_t *ids,
                        uint64_t *time_enabled, uint64_t *time_running, int *scaled);
int mp_close_fds(const int *fds, int n);

struct mp_spawn_spec {
    const char *path; char *const *argv; char *const *envp;
    const char *workdir; const char *inner_dir;
    int ns_flags; int map_uid, map_gid;
    const char *const *ro_mounts; const unsigned long *ro_flags; int n_ro;
    int mount_proc; int no_aslr; int no_new_privs; int seccomp;
    int n_rlimits; const int *rl_resource; const uint64_t *rl_value;
    int stdin_fd, stdout_fd, stderr_fd;
    const int *keep_fds; int n_keep;
    const char *cgroup_procs;
    int n_events; const uint32_t *ev_types; const uint64_t *ev_configs;
    int ev_inherit, ev_enable_on_exec, ev_pinned;
    int run_uid, run_gid; int private_dev;
    const char *scratch_dir; uint64_t scratch_bytes; int socket_policy;
    const char *const *expose_cover; const char *const *expose_path; int n_expose;
    const char *bind_src; const char *bind_dst;
};
struct mp_spawn_result {
    int pid;
    int counter_fds[16]; uint64_t counter_ids[16];
    int counter_errno; int counter_failed_index;
    int error_stage; int error_errno;
    int n_warn; int warn_stage[16]; int warn_errno[16];
};
int mp_spawn(const struct mp_spawn_spec *spec, struct mp_spawn_result *res);
struct mp_wait_result {
    int exited, exit_code, signaled, term_signal, timed_out;
    long maxrss_kb; double utime_s, stime_s;
};
int mp_wait(int pid, int timeout_ms, int own_pid_namespace, struct mp_wait_result *res);
int mp_kill_tree(int pid, int own_pid_namespace);
int mp_probe_namespaces(int ns_flags, int map_uid, int map_gid);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "measure._native",
    '#include "measure_native.h"',
    sources=[str(NATIVE / "perf.c"), str(NATIVE / "launch.c")],
    include_dirs=[str(NATIVE)],
    extra_compile_args=["-O2", "-Wall"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
