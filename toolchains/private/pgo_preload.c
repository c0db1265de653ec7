/* The library preloaded into the PGO training run (LD_PRELOAD; build_cpython.sh compiles it in
 * the hermetic builder). It takes away what the host's file system and kernel, or chance, would
 * otherwise decide, so that the training's profile is the same in every run and on every host.
 * One thread (the training run checks that it has one); the process runs under pgo_isolate (no
 * randomisation, the legacy bottom-up mmap layout), which the constructor checks. It is never
 * part of the interpreter: only the training run loads it.
 *
 * 1. Directory listings in name order.
 *    readdir() returns entries in the file system's order: hash order on ext4 (with a seed of each
 *    file system), creation order on tmpfs. CPython's import system puts a directory's listing into
 *    a set, and the probes of a set depend on the order its members came in, so the same build tree
 *    on two file systems gave two profiles. With this library every directory is read whole at the
 *    first readdir() and its entries are returned sorted by name. Only what CPython uses is
 *    covered: readdir/readdir64 on a DIR from opendir or fdopendir, rewinddir and closedir.
 *
 * 2. A canonical address space.
 *    Object addresses decide hash-table probes (id-based hashes), the method cache and pickle's
 *    memo, and so the profile. With randomisation off they still depend on the host: the kernel's
 *    vDSO pages differ between kernel versions, and a file whose mapping spans 2 MiB or more is
 *    put at a 2 MiB boundary when its file system supports large folios (ext4, XFS) and anywhere
 *    on a tmpfs. Everything mapped after such a file (extension modules, obmalloc's arenas,
 *    malloc's large blocks) then lands elsewhere. Measured on one kernel: the builder's
 *    libcrypto.so.3 at ...200000 from ext4 and at ...0f4000 from tmpfs, and the training's
 *    profile differed in 60 address-dependent counters.
 *    Before main() the constructor (a) fills every free range of the mmap area below LAYOUT_BASE
 *    with an inaccessible reservation, so that every later mapping is placed from LAYOUT_BASE up,
 *    whatever the kernel put below it; (b) loads each library named in PYIMAGE_PGO_LIBS (the
 *    extension modules' dependencies, each after its own), each at a 2 MiB boundary, where every file
 *    system puts it. It checks that each landed there and fails otherwise, and at exit that no
 *    other file mapping of 2 MiB or more was made in the canonical range (the check is here, in
 *    code that is not profiled: the same check in Python read /proc/self/maps, whose lines hold
 *    device and inode numbers, and so moved the profile).
 *
 * 3. One device number.
 *    The stat family reports st_dev as 0. The builder's /tmp is a tmpfs whose device number the
 *    host kernel gives out at mount time (0:45 here; past 0:256 on a host with many mounts), and
 *    every os.stat() turns it into an int: below 257 it is one of CPython's cached small ints,
 *    above it a new object, and the profile counted the difference. Nothing in the training run
 *    compares devices.
 *
 * 4. No entropy.
 *    getrandom() and getentropy() return the same bytes in every run: a splitmix64 stream from a
 *    fixed seed, in call order (the training has one thread). With PYTHONHASHSEED=0 CPython's hash
 *    secret is all zeros and pyexpat hands expat a hash salt of 0, which expat takes as "draw one":
 *    a getrandom() salt, so the probes of its name tables, and with them one counter of
 *    xmlparse.gcda (201 in one run, 401 in the next), changed from run to run. os.urandom(),
 *    random's default seed and tempfile's names come from getrandom() too.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- 1. directory listings in name order ---------------------------------------------------- */

struct listing {
  DIR *dir;
  struct dirent64 *entries;
  size_t count, next;
  struct listing *link;
};
static struct listing *listings;

static struct dirent64 *(*real_readdir64)(DIR *);
static int (*real_closedir)(DIR *);
static void (*real_rewinddir)(DIR *);

static void resolve(void) {
  if (!real_readdir64) {
    real_readdir64 = (struct dirent64 * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir64");
    real_closedir = (int (*)(DIR *))dlsym(RTLD_NEXT, "closedir");
    real_rewinddir = (void (*)(DIR *))dlsym(RTLD_NEXT, "rewinddir");
    if (!real_readdir64 || !real_closedir || !real_rewinddir) abort();
  }
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct dirent64 *)a)->d_name, ((const struct dirent64 *)b)->d_name);
}

static struct listing **find(DIR *dir) {
  struct listing **l = &listings;
  while (*l && (*l)->dir != dir) l = &(*l)->link;
  return l;
}

static void forget(DIR *dir) {
  struct listing **l = find(dir);
  if (*l) {
    struct listing *gone = *l;
    *l = gone->link;
    free(gone->entries);
    free(gone);
  }
}

/* Reads the whole directory; NULL with errno set if readdir fails or memory runs out. */
static struct listing *load(DIR *dir) {
  struct listing *l = calloc(1, sizeof *l);
  size_t room = 0;
  if (!l) return NULL;
  l->dir = dir;
  for (;;) {
    int saved = errno;
    errno = 0;
    struct dirent64 *e = real_readdir64(dir);
    if (!e) {
      if (errno != 0) {
        free(l->entries);
        free(l);
        return NULL;
      }
      errno = saved;
      break;
    }
    errno = saved;
    if (l->count == room) {
      room = room ? 2 * room : 64;
      struct dirent64 *more = realloc(l->entries, room * sizeof *more);
      if (!more) {
        free(l->entries);
        free(l);
        errno = ENOMEM;
        return NULL;
      }
      l->entries = more;
    }
    /* The entry may end where its name does: copy no further. */
    memcpy(&l->entries[l->count++], e, offsetof(struct dirent64, d_name) + strlen(e->d_name) + 1);
  }
  if (l->count > 1) qsort(l->entries, l->count, sizeof *l->entries, by_name);
  l->link = listings;
  listings = l;
  return l;
}

struct dirent64 *readdir64(DIR *dir) {
  resolve();
  struct listing *l = *find(dir);
  if (!l && !(l = load(dir))) return NULL;
  return l->next < l->count ? &l->entries[l->next++] : NULL;
}

struct dirent *readdir(DIR *dir) {
  /* glibc on 64-bit systems: struct dirent and struct dirent64 are the same. */
  return (struct dirent *)readdir64(dir);
}

void rewinddir(DIR *dir) {
  resolve();
  forget(dir);
  real_rewinddir(dir);
}

int closedir(DIR *dir) {
  resolve();
  forget(dir);
  return real_closedir(dir);
}

/* ---- 2. a canonical address space ------------------------------------------------------------ */

/* The legacy layout's mmap area starts at a third of the 47-bit address space (0x2aaaaaaab000)
 * and grows up; PIE executables sit at two thirds (0x555555554000). LAYOUT_BASE lies between. */
#define MMAP_AREA_START 0x200000000000UL
#define LAYOUT_BASE 0x300000000000UL
#define LAYOUT_END 0x500000000000UL
#define HUGE_ALIGN 0x200000UL

/* Where each library of PYIMAGE_PGO_LIBS was put. */
static unsigned long placed[512];
static size_t placed_count;

static void fail(const char *what, unsigned long a, unsigned long b) {
  char line[512];
  int n = snprintf(line, sizeof line, "pgo_preload: %s (0x%lx, 0x%lx)\n", what, a, b);
  if (n > 0) (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
  _exit(70);
}

/* /proc/self/maps, whole, in a buffer of its own for each caller. */
static char *maps_text(char *text, size_t size) {
  size_t used = 0;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open /proc/self/maps", 0, 0);
  for (;;) {
    ssize_t got = read(fd, text + used, size - 1 - used);
    if (got < 0) fail("cannot read /proc/self/maps", 0, 0);
    if (got == 0) break;
    used += (size_t)got;
    if (used == size - 1) fail("/proc/self/maps is too long", used, 0);
  }
  close(fd);
  text[used] = '\0';
  return text;
}

/* The process's mappings, [start, end) pairs in address order. */
static size_t read_maps(unsigned long (*ranges)[2], size_t max) {
  static char text[1 << 18];
  size_t count = 0;
  for (char *line = maps_text(text, sizeof text); *line; ) {
    char *next = strchr(line, '\n');
    if (count == max) fail("too many mappings", max, 0);
    ranges[count][0] = strtoul(line, &line, 16);
    ranges[count][1] = strtoul(line + 1, NULL, 16);
    count++;
    if (!next) break;
    line = next + 1;
  }
  return count;
}

static void reserve(unsigned long start, unsigned long end) {
  void *at = mmap((void *)start, end - start, PROT_NONE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (at != (void *)start) fail("cannot reserve an address range", start, end);
}

/* The end of the highest mapping in [LAYOUT_BASE, LAYOUT_END), or LAYOUT_BASE. */
static unsigned long layout_top(void) {
  static unsigned long ranges[4096][2];
  size_t n = read_maps(ranges, 4096);
  unsigned long top = LAYOUT_BASE;
  for (size_t i = 0; i < n; i++) {
    if (ranges[i][0] >= LAYOUT_BASE && ranges[i][0] < LAYOUT_END && ranges[i][1] > top) top = ranges[i][1];
  }
  return top;
}

__attribute__((constructor)) static void canonical_address_space(void) {
  static unsigned long ranges[4096][2];
  int persona = personality(0xffffffff);
  if (persona == -1 || !(persona & ADDR_NO_RANDOMIZE) || !(persona & ADDR_COMPAT_LAYOUT)) {
    fail("the training must run under pgo_isolate (ADDR_NO_RANDOMIZE|ADDR_COMPAT_LAYOUT)", (unsigned long)persona, 0);
  }
  /* (a) Nothing may be mapped in [LAYOUT_BASE, LAYOUT_END) yet; every free range of the mmap area
   * below it is reserved. */
  size_t n = read_maps(ranges, 4096);
  unsigned long free_from = MMAP_AREA_START;
  for (size_t i = 0; i < n; i++) {
    unsigned long start = ranges[i][0], end = ranges[i][1];
    if (end <= MMAP_AREA_START) continue;
    if (start >= LAYOUT_END) break;
    if (start >= LAYOUT_BASE) fail("a mapping is already in the canonical range", start, end);
    if (start > free_from) reserve(free_from, start);
    if (end > free_from) free_from = end;
  }
  if (free_from < LAYOUT_BASE) reserve(free_from, LAYOUT_BASE);

  /* (b) The named libraries, each at a 2 MiB boundary. */
  const char *list = getenv("PYIMAGE_PGO_LIBS");
  if (!list) return;
  char *copy = strdup(list);
  if (!copy) fail("out of memory", 0, 0);
  for (char *path = strtok(copy, ":"); path; path = strtok(NULL, ":")) {
    /* Loaded already: fine for the interpreter's own dependencies (libc, libm), which were mapped
     * before the reservation; a library loaded as an earlier one's dependency was placed by the
     * kernel, and the list's order is wrong. */
    void *loaded = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (loaded) {
      struct link_map *map = NULL;
      if (dlinfo(loaded, RTLD_DI_LINKMAP, &map) != 0 || !map || map->l_addr >= LAYOUT_BASE) {
        char line[1024];
        snprintf(line, sizeof line, "%s was loaded as a dependency before its turn in PYIMAGE_PGO_LIBS (dependencies must come first)", path);
        fail(line, map ? map->l_addr : 0, 0);
      }
      dlclose(loaded);
      continue;
    }
    unsigned long top = layout_top();
    unsigned long boundary = (top + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
    if (boundary > top) reserve(top, boundary);
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    struct link_map *map = NULL;
    if (!lib || dlinfo(lib, RTLD_DI_LINKMAP, &map) != 0 || !map) {
      const char *why = dlerror();
      char line[1024];
      snprintf(line, sizeof line, "cannot load %s: %s", path, why ? why : "no link map");
      fail(line, boundary, 0);
    }
    if (map->l_addr != boundary) {
      char line[1024];
      snprintf(line, sizeof line, "%s was not loaded at the 2 MiB boundary", path);
      fail(line, map->l_addr, boundary);
    }
    if (placed_count == sizeof placed / sizeof *placed) fail("too many libraries in PYIMAGE_PGO_LIBS", placed_count, 0);
    placed[placed_count++] = boundary;
  }
  free(copy);
}

/* At exit: every file mapping of 2 MiB or more in the canonical range is one the constructor
 * placed. A mapping's lines are consecutive and name the same file. */
__attribute__((destructor)) static void check_address_space(void) {
  static char text[1 << 18];
  unsigned long low = 0, high = 0;
  char file[512] = "";
  for (char *line = maps_text(text, sizeof text); ; ) {
    char *next = strchr(line, '\n');
    unsigned long start = 0, end = 0;
    char name[512] = "";
    if (next) *next = '\0';
    if (*line && sscanf(line, "%lx-%lx %*s %*s %*s %*s %511s", &start, &end, name) < 2) fail("cannot parse /proc/self/maps", 0, 0);
    if (!*line || name[0] != '/' || strcmp(name, file) != 0 || start != high) {
      /* The previous file's mapping ends here. */
      if (file[0] == '/' && low >= LAYOUT_BASE && low < LAYOUT_END && high - low >= HUGE_ALIGN) {
        size_t i = 0;
        while (i < placed_count && placed[i] != low) i++;
        if (i == placed_count) {
          char why[1024];
          snprintf(why, sizeof why, "%s was mapped where the file system decides (2 MiB or more, not placed by this library: add it to PYIMAGE_PGO_LIBS in build_cpython.sh)", file);
          fail(why, low, high);
        }
      }
      low = start;
      snprintf(file, sizeof file, "%s", name);
    }
    high = end;
    if (!next) break;
    line = next + 1;
  }
}

/* ---- 3. one device number ---------------------------------------------------------------------- */

#define SAME_DEVICE(name, params, args, buf)                                     \
  int name params {                                                              \
    static int(*real) params;                                                    \
    if (!real && !(real = (int(*) params)dlsym(RTLD_NEXT, #name))) abort();     \
    int result = real args;                                                      \
    if (result == 0) (buf)->st_dev = 0;                                          \
    return result;                                                               \
  }

SAME_DEVICE(stat, (const char *path, struct stat *buf), (path, buf), buf)
SAME_DEVICE(stat64, (const char *path, struct stat64 *buf), (path, buf), buf)
SAME_DEVICE(lstat, (const char *path, struct stat *buf), (path, buf), buf)
SAME_DEVICE(lstat64, (const char *path, struct stat64 *buf), (path, buf), buf)
SAME_DEVICE(fstat, (int fd, struct stat *buf), (fd, buf), buf)
SAME_DEVICE(fstat64, (int fd, struct stat64 *buf), (fd, buf), buf)
SAME_DEVICE(fstatat, (int dirfd, const char *path, struct stat *buf, int flags), (dirfd, path, buf, flags), buf)
SAME_DEVICE(fstatat64, (int dirfd, const char *path, struct stat64 *buf, int flags), (dirfd, path, buf, flags), buf)

/* ---- 4. no entropy ------------------------------------------------------------------------------ */

static uint64_t entropy_state = 0x7079696d61676531ULL; /* "pyimage1" */

static void fill(void *buf, size_t len) {
  unsigned char *out = buf;
  while (len > 0) {
    uint64_t z = (entropy_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    size_t n = len < sizeof z ? len : sizeof z;
    memcpy(out, &z, n);
    out += n;
    len -= n;
  }
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
  (void)flags;
  fill(buf, len);
  return (ssize_t)len;
}

int getentropy(void *buf, size_t len) {
  if (len > 256) {
    errno = EIO;
    return -1;
  }
  fill(buf, len);
  return 0;
}
