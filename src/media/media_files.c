/* media_files.c — see media_files.h. */
#include "media/media_files.h"

#include "core/config.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool media_path_ok(const char *rel)
{
    size_t n = rel ? strlen(rel) : 0;
    if (n == 0 || n > 200 || rel[0] == '/' || rel[n - 1] == '/' || strstr(rel, "..") || strstr(rel, "//"))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = rel[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '/'))
            return false;
    }
    return true;
}

/* The directories of path (MEDIA_DIR itself included), made if missing. */
static int make_parents(char *path, size_t base_len)
{
    for (char *p = path + base_len; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

int media_write(const char *rel, const void *data, size_t len)
{
    if (!media_path_ok(rel)) {
        log_error("media: refusing to write %s (not a media path)", rel ? rel : "(null)");
        return -1;
    }
    char path[1400], tmp[1500];
    int pn = snprintf(path, sizeof path, "%s/%s", cfg.media_dir, rel);
    if (pn < 0 || (size_t)pn >= sizeof path) return -1;
    if (mkdir(cfg.media_dir, 0755) != 0 && errno != EEXIST) {
        log_error("media: cannot create MEDIA_DIR %s: %s", cfg.media_dir, strerror(errno));
        return -1;
    }
    if (make_parents(path, strlen(cfg.media_dir) + 1) != 0) {
        log_error("media: cannot create the directories of %s: %s", path, strerror(errno));
        return -1;
    }
    unsigned char rnd[8];
    char hex[17];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(tmp, sizeof tmp, "%s.%s.tmp", path, hex);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error("media: cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    const unsigned char *p = data;
    size_t left = len;
    bool ok = true;
    while (ok && left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) ok = false;
        else {
            p += w;
            left -= (size_t)w;
        }
    }
    /* on disk before the database row that names it commits */
    if (ok && fsync(fd) != 0) ok = false;
    int saved = errno;
    if (close(fd) != 0 && ok) ok = false, saved = errno;
    if (ok && rename(tmp, path) != 0) ok = false, saved = errno;
    if (!ok) {
        log_error("media: cannot write %s: %s", path, strerror(saved));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int media_remove(const char *rel)
{
    if (!media_path_ok(rel)) {
        log_error("media: refusing to remove %s (not a media path)", rel ? rel : "(null)");
        return -1;
    }
    char path[1400];
    int pn = snprintf(path, sizeof path, "%s/%s", cfg.media_dir, rel);
    if (pn < 0 || (size_t)pn >= sizeof path) return -1;
    if (unlink(path) != 0 && errno != ENOENT) {
        log_error("media: cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
