/* The exec'd child of the inherit test (static, so no dynamic loader runs): forks a grandchild that
 * runs the known loop, n = argv[1] iterations of subs + b.ne, and waits for it. Counted from exec
 * with enable_on_exec + inherit, count(2n) - count(n) is 2n exactly; without inherit it is 0. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void spin(unsigned long n) {
    if (!n) return;
    __asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
}

int main(int argc, char **argv) {
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
        spin(n);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {}
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
