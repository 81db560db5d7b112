/* test_sandbox.c — the worker's seccomp filter really forbids exec and
 * ptrace, and leaves ordinary work (files, threads, sockets) alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc/sandbox.h"

static void *thread_main(void *arg) { return arg; }

/* Runs in a child so the filter does not bind the test runner. */
static int child(void)
{
    if (sandbox_enter() != 0) return 10;
    char *argv[] = {"/bin/true", NULL}, *envp[] = {NULL};
    if (execve("/bin/true", argv, envp) != -1 || errno != EPERM) return 11;
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != -1 || errno != EPERM) return 12;
    if (setuid(0) != -1 || errno != EPERM) return 13;
    /* still allowed: what a worker does all day */
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) return 20;
    close(fd);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 21;
    close(sv[0]);
    close(sv[1]);
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, NULL) != 0) return 22;
    pthread_join(t, NULL);
    return 0;
}

static void test_filter(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* As root: the worker becomes `nobody` and cannot become root again. */
static int child_drop(void)
{
    struct passwd *pw = getpwnam("nobody");
    if (!pw) return 30;
    if (sandbox_drop_privileges("nobody") != 0) return 31;
    if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid) return 32;
    if (setuid(0) == 0) return 33;
    if (sandbox_drop_privileges("no-such-user-here") != 0) return 34; /* not root any more: no-op */
    return 0;
}

/* Not root (a developer's own account): dropping is a documented no-op —
 * nothing to drop, even for a user that does not exist — and the ids stay. */
static void not_root_is_a_no_op(void)
{
    uid_t uid = getuid(), euid = geteuid();
    gid_t gid = getgid();
    assert_int_equal(sandbox_drop_privileges("nobody"), 0);
    assert_int_equal(sandbox_drop_privileges("no-such-user-here"), 0);
    assert_true(getuid() == uid && geteuid() == euid && getgid() == gid);
}

/* Both paths assert: as root (CI, the stack) the real drop in a child; as
 * anyone else the no-op above. Never a skip. */
static void test_drop_privileges(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        not_root_is_a_no_op();
        return;
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_drop());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(sandbox_drop_privileges(""), 0);  /* nothing asked: nothing done */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_filter), cmocka_unit_test(test_drop_privileges)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
