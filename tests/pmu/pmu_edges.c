/* Edges of a counted region written in C, for the arm64 PMU guest: between enabling and disabling
 * the counter group only a fixed instruction sequence runs (no Python, no allocation), so the
 * count of mp_spin(n) is 2n plus a constant, exactly. The group itself is opened and read through
 * measure's native PerfGroup. */
#include <linux/perf_event.h>
#include <sys/ioctl.h>

typedef void (*spin_fn)(unsigned long);

int pmu_count_spin(int leader_fd, spin_fn spin, unsigned long n) {
    if (ioctl(leader_fd, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP) < 0) return -1;
    if (ioctl(leader_fd, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP) < 0) return -1;
    spin(n);
    if (ioctl(leader_fd, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP) < 0) return -1;
    return 0;
}
