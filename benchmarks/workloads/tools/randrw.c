/* randrw FILE OPS: OPS random 4 KiB operations (half pread, half pwrite, 4 KiB aligned) over the whole
 * of FILE, then fsync. The fallback used when fio is not installed. Deterministic (fixed seed). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: randrw FILE OPS\n"); return 2; }
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) { perror(argv[1]); return 1; }
    struct stat st;
    fstat(fd, &st);
    long blocks = st.st_size / 4096, ops = atol(argv[2]);
    if (blocks <= 0) { fprintf(stderr, "randrw: %s is empty\n", argv[1]); return 1; }
    char buf[4096];
    uint64_t x = 88172645463325252ULL;
    for (long i = 0; i < ops; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        off_t off = (off_t)((x >> 1) % blocks) * 4096;
        if (x & 1) {
            memset(buf, (int)(i & 0xff), sizeof buf);
            if (pwrite(fd, buf, sizeof buf, off) != (ssize_t)sizeof buf) { perror("pwrite"); return 1; }
        } else if (pread(fd, buf, sizeof buf, off) != (ssize_t)sizeof buf) { perror("pread"); return 1; }
    }
    if (fsync(fd) != 0) { perror("fsync"); return 1; }
    return close(fd) == 0 ? 0 : 1;
}
