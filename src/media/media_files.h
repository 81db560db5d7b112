/* media_files.h — files under MEDIA_DIR, which nginx serves itself as
 * /media/ (year-long cache: a file's name never gets new content).
 *
 *   if (media_write("images/3f/3fa9…-1200.webp", bytes, len) != 0) → refuse, nothing written;
 *   media_remove("images/3f/3fa9…-1200.webp");
 *
 * rel is a path under MEDIA_DIR made by the program (lower-case letters,
 * digits, '-', '_', '.', '/', no ".." and no leading '/'); anything else
 * is refused, so a path can never leave MEDIA_DIR. Writes are atomic: a
 * temporary name in the same directory, flushed to disk, then renamed, so
 * nginx never sends half a file and a crash leaves no torn one. */
#ifndef SHOEASE_MEDIA_FILES_H
#define SHOEASE_MEDIA_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* Is rel a path media_write/media_remove accept? */
bool media_path_ok(const char *rel);
/* 0, or -1 (logged; nothing left behind). Directories are made as needed. */
int media_write(const char *rel, const void *data, size_t len);
/* 0 (also when it was not there), or -1 (logged). */
int media_remove(const char *rel);

#endif
