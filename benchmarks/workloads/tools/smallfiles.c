/* smallfiles DIR NFILES SIZE: creates NFILES files of SIZE bytes in DIR (100 files per subdirectory),
 * then stats them all, reads them all, and deletes them all (files, then the subdirectories).
 * Prints the seconds of each phase as JSON on stdout. Exits non-zero, naming the call, on any error. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path) {
    fprintf(stderr, "smallfiles: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: smallfiles DIR NFILES SIZE\n"); return 2; }
    const char *root = argv[1];
    int n = atoi(argv[2]);
    size_t size = (size_t)atol(argv[3]);
    int per_dir = 100, ndirs = (n + per_dir - 1) / per_dir;
    char *buf = malloc(size + 1), *rbuf = malloc(size + 4096), path[4096];
    for (size_t i = 0; i < size; i++) buf[i] = 'a' + (i * 7 + 3) % 26;
    double t[5];

    t[0] = now();
    if (mkdir(root, 0755) != 0 && errno != EEXIST) die("mkdir", root);
    for (int d = 0; d < ndirs; d++) {
        snprintf(path, sizeof path, "%s/d%04d", root, d);
        if (mkdir(path, 0755) != 0) die("mkdir", path);
    }
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/d%04d/f%06d.txt", root, i / per_dir, i);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0) die("create", path);
        if (write(fd, buf, size) != (ssize_t)size) die("write", path);
        if (close(fd) != 0) die("close", path);
    }
    t[1] = now();
    struct stat st;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/d%04d/f%06d.txt", root, i / per_dir, i);
        if (stat(path, &st) != 0) die("stat", path);
        if ((size_t)st.st_size != size) { errno = EIO; die("stat size mismatch", path); }
    }
    t[2] = now();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/d%04d/f%06d.txt", root, i / per_dir, i);
        int fd = open(path, O_RDONLY);
        if (fd < 0) die("open", path);
        ssize_t r = read(fd, rbuf, size + 4096);
        if (r != (ssize_t)size || memcmp(rbuf, buf, size) != 0) { errno = EIO; die("read content mismatch", path); }
        close(fd);
    }
    t[3] = now();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/d%04d/f%06d.txt", root, i / per_dir, i);
        if (unlink(path) != 0) die("unlink", path);
    }
    for (int d = 0; d < ndirs; d++) {
        snprintf(path, sizeof path, "%s/d%04d", root, d);
        if (rmdir(path) != 0) die("rmdir", path);
    }
    if (rmdir(root) != 0) die("rmdir", root);
    t[4] = now();
    printf("{\"create\": %.6f, \"stat\": %.6f, \"read\": %.6f, \"delete\": %.6f}\n",
           t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3]);
    return 0;
}
