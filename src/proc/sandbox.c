/* sandbox.c — see sandbox.h. A deny-list on top of no-new-privileges:
 * the worker's libraries (MHD, libmariadb, hiredis, libmongoc, the
 * sanitizers in test builds) need a wide and changing set of ordinary
 * calls, so we forbid the ones a server never needs instead. */
#include "proc/sandbox.h"

#include "core/log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int sandbox_drop_privileges(const char *user)
{
    if (geteuid() != 0 || !user || !*user) return 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        log_error("RUN_AS_USER=%s: no such user", user);
        return -1;
    }
    if (pw->pw_uid == 0) return 0;
    /* groups first: after setuid we could no longer change them */
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        log_error("RUN_AS_USER=%s: cannot switch to it: %s", user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) { /* must be impossible now */
        log_error("RUN_AS_USER=%s: root could be regained; refusing to serve", user);
        return -1;
    }
    return 0;
}

static const int denied[] = {
    SCMP_SYS(execve),        SCMP_SYS(execveat),     SCMP_SYS(ptrace),        SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev), SCMP_SYS(mount),    SCMP_SYS(umount2),       SCMP_SYS(pivot_root),
    SCMP_SYS(chroot),        SCMP_SYS(reboot),       SCMP_SYS(kexec_load),    SCMP_SYS(kexec_file_load),
    SCMP_SYS(init_module),   SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(setuid),
    SCMP_SYS(setgid),        SCMP_SYS(setreuid),     SCMP_SYS(setregid),      SCMP_SYS(setresuid),
    SCMP_SYS(setresgid),     SCMP_SYS(setgroups),    SCMP_SYS(unshare),       SCMP_SYS(setns),
    SCMP_SYS(swapon),        SCMP_SYS(swapoff),      SCMP_SYS(acct),          SCMP_SYS(bpf),
    SCMP_SYS(perf_event_open), SCMP_SYS(keyctl),     SCMP_SYS(add_key),       SCMP_SYS(request_key),
    SCMP_SYS(userfaultfd),   SCMP_SYS(personality),  SCMP_SYS(settimeofday),  SCMP_SYS(clock_settime),
};

int sandbox_enter(void)
{
    /* the filter can never be loosened, and setuid binaries can't help */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        log_error("sandbox: PR_SET_NO_NEW_PRIVS failed");
        return -1;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        log_error("sandbox: seccomp_init failed");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof denied / sizeof *denied && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
    /* apply to every thread MHD has already started */
    if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc == 0) rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        log_error("sandbox: cannot install the seccomp filter (%d)", rc);
        return -1;
    }
    return 0;
}
