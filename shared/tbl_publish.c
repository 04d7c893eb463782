/*
 * tbl_publish.c -- the table directory protocol: the shared control file
 * and the publication of immutable table.<gen> files.
 *
 * The controller is the only writer.  A table becomes visible in three
 * steps whose order is the whole point: the bytes go to table.<gen>.tmp,
 * a rename makes them table.<gen> (complete, never written again), and
 * only then does a release store put <gen> into control->generation,
 * which workers acquire-load per request.  Old tables are unlinked, never
 * truncated: a worker that still maps one keeps its inode alive.  This
 * file does not validate tables and does not know about nginx.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tbl.h"
#include "tbl_internal.h"
#include "tbl_publish.h"

#define TBL_FILE_MODE 0640
#define TBL_PATH_MAX  4096

static int
tbl_dir_path(const char *dir, const char *name, char *buf, size_t buflen)
{
    int n = snprintf(buf, buflen, "%s/%s", dir, name);

    return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

int
tbl_table_path(const char *dir, uint64_t gen, char *buf, size_t buflen)
{
    int n = snprintf(buf, buflen, "%s/table.%llu", dir,
                     (unsigned long long)gen);

    return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

/* Writes all of buf, retrying short writes and EINTR. */
static int
tbl_write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---------------------------------------------------------------- control */

/*
 * Creates <dir>/control complete or not at all: the initialized bytes go
 * to a private O_EXCL temporary that link() then publishes under the
 * final name, so no process ever opens a half-written control file.
 * Returns 0, 1 when another process created it first, or -1.
 */
static int
tbl_control_create(const char *dir, const char *path, char *err,
                   size_t errlen)
{
    char        tmp[TBL_PATH_MAX], name[64];
    tbl_control init;
    int         fd, rc, saved;

    snprintf(name, sizeof(name), "control.%ld.tmp", (long)getpid());
    if (tbl_dir_path(dir, name, tmp, sizeof(tmp)) != 0) {
        snprintf(err, errlen, "table dir path too long: %s", dir);
        return -1;
    }
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, TBL_FILE_MODE);
    if (fd < 0) {
        snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
        return -1;
    }
    memset(&init, 0, sizeof(init));
    init.magic = TBL_CONTROL_MAGIC;
    init.version = TBL_CONTROL_VERSION;
    init.size = TBL_CONTROL_SIZE;
    if (fchmod(fd, TBL_FILE_MODE) != 0
        || tbl_write_all(fd, &init, sizeof(init)) != 0)
    {
        snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    rc = link(tmp, path);
    saved = errno;
    unlink(tmp);
    if (rc == 0) {
        return 0;
    }
    if (saved == EEXIST) {
        return 1;
    }
    snprintf(err, errlen, "link %s -> %s: %s", tmp, path, strerror(saved));
    return -1;
}

/* Maps an open control file after checking its size, magic and version. */
static int
tbl_control_map(int fd, const char *path, int writable, tbl_control **out,
                char *err, size_t errlen)
{
    struct stat  st;
    tbl_control *ctl;

    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "stat %s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_size != TBL_CONTROL_SIZE) {
        snprintf(err, errlen,
                 "%s: size %lld, a control file has exactly %u bytes", path,
                 (long long)st.st_size, TBL_CONTROL_SIZE);
        return -1;
    }
    ctl = mmap(NULL, TBL_CONTROL_SIZE,
               writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd,
               0);
    if (ctl == MAP_FAILED) {
        snprintf(err, errlen, "mmap %s: %s", path, strerror(errno));
        return -1;
    }
    if (ctl->magic != TBL_CONTROL_MAGIC || ctl->version != TBL_CONTROL_VERSION
        || ctl->size != TBL_CONTROL_SIZE)
    {
        snprintf(err, errlen,
                 "%s: not a shmingress control file (magic 0x%016llx, "
                 "version %u, size %u)",
                 path, (unsigned long long)ctl->magic, ctl->version,
                 ctl->size);
        munmap(ctl, TBL_CONTROL_SIZE);
        return -1;
    }
    *out = ctl;
    return 0;
}

int
tbl_control_open(const char *dir, int writable, tbl_control **out,
                 char *err, size_t errlen)
{
    char path[TBL_PATH_MAX];
    int  fd, rc;

    if (tbl_dir_path(dir, TBL_CONTROL_FILE, path, sizeof(path)) != 0) {
        snprintf(err, errlen, "table dir path too long: %s", dir);
        return -1;
    }
    if (writable && access(path, F_OK) != 0
        && tbl_control_create(dir, path, err, errlen) < 0)
    {
        return -1;
    }
    fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return -1;
    }
    rc = tbl_control_map(fd, path, writable, out, err, errlen);
    close(fd);
    if (rc == 0 && writable) {
        __atomic_store_n(&(*out)->controller_pid, (uint64_t)getpid(),
                         __ATOMIC_RELAXED);
        tbl_control_heartbeat(*out);
    }
    return rc;
}

void
tbl_control_close(tbl_control *ctl)
{
    if (ctl != NULL) {
        munmap(ctl, TBL_CONTROL_SIZE);
    }
}

void
tbl_control_heartbeat(tbl_control *ctl)
{
    __atomic_store_n(&ctl->heartbeat_ms, tbl_wall_ms(), __ATOMIC_RELAXED);
}

/* ----------------------------------------------------------- generations */

/*
 * Parses "table.<N>" (tmp = 0) or "table.<N>.tmp" (tmp = 1) strictly:
 * decimal digits, no sign, no leading zero, no overflow.  Returns 0 and
 * sets *gen, or -1 for any other name.
 */
static int
tbl_parse_table_name(const char *name, int *tmp, uint64_t *gen)
{
    const char *p;
    uint64_t    g = 0;

    if (strncmp(name, "table.", 6) != 0) {
        return -1;
    }
    p = name + 6;
    if (*p < '1' || *p > '9') {
        return -1;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (g > (UINT64_MAX - 9) / 10) {
            return -1;
        }
        g = g * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '\0') {
        *tmp = 0;
    } else if (strcmp(p, ".tmp") == 0) {
        *tmp = 1;
    } else {
        return -1;
    }
    *gen = g;
    return 0;
}

uint64_t
tbl_next_generation(const char *dir, const tbl_control *ctl)
{
    uint64_t       max = ctl ? tbl_control_generation(ctl) : 0, g;
    DIR           *d = opendir(dir);
    struct dirent *e;
    int            tmp;

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (tbl_parse_table_name(e->d_name, &tmp, &g) == 0 && !tmp
                && g > max)
            {
                max = g;
            }
        }
        closedir(d);
    }
    return max + 1;
}

/* ----------------------------------------------------------- publication */

static int
tbl_write_file(const char *path, const uint8_t *buf, size_t len, char *err,
               size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  TBL_FILE_MODE);

    if (fd < 0) {
        snprintf(err, errlen, "create %s: %s", path, strerror(errno));
        return -1;
    }
    if (fchmod(fd, TBL_FILE_MODE) != 0 || tbl_write_all(fd, buf, len) != 0) {
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "close %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Unlinks table.<N> for N older than the `keep` newest (gen included) and
 * any table.<N>.tmp older than gen, left by an interrupted publication.
 * Failures are ignored: the table is already published, and the next
 * publication tries again.
 */
static void
tbl_prune(const char *dir, uint64_t gen, unsigned keep)
{
    uint64_t       cutoff = gen >= keep ? gen - keep + 1 : 0, g;
    DIR           *d = opendir(dir);
    struct dirent *e;
    char           path[TBL_PATH_MAX];
    int            tmp;

    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (tbl_parse_table_name(e->d_name, &tmp, &g) != 0) {
            continue;
        }
        if ((tmp ? g < gen : g < cutoff)
            && tbl_dir_path(dir, e->d_name, path, sizeof(path)) == 0)
        {
            unlink(path);
        }
    }
    closedir(d);
}

int
tbl_publish(const char *dir, tbl_control *ctl, const uint8_t *buf,
            size_t len, uint64_t gen, unsigned keep, char *err,
            size_t errlen)
{
    char              path[TBL_PATH_MAX], tmp[TBL_PATH_MAX];
    uint64_t          cur = tbl_control_generation(ctl);
    const tbl_header *hdr = (const tbl_header *)buf;

    if (gen <= cur) {
        snprintf(err, errlen,
                 "generation %llu is not newer than the published %llu",
                 (unsigned long long)gen, (unsigned long long)cur);
        return -1;
    }
    if (len < sizeof(tbl_header) || hdr->generation != gen) {
        snprintf(err, errlen,
                 "table buffer (%zu bytes) does not carry generation %llu",
                 len, (unsigned long long)gen);
        return -1;
    }
    if (tbl_table_path(dir, gen, path, sizeof(path)) != 0
        || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
    {
        snprintf(err, errlen, "table dir path too long: %s", dir);
        return -1;
    }
    if (tbl_write_file(tmp, buf, len, err, errlen) != 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "rename %s -> %s: %s", tmp, path,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }

    __atomic_store_n(&ctl->generation, gen, __ATOMIC_RELEASE);
    __atomic_store_n(&ctl->published_at_ms, tbl_wall_ms(), __ATOMIC_RELAXED);
    __atomic_add_fetch(&ctl->publications, 1, __ATOMIC_RELAXED);
    tbl_prune(dir, gen, keep > 0 ? keep : 1);
    return 0;
}
