/* Directory listings in name order, for the PGO training run (LD_PRELOAD; build_cpython.sh
 * compiles it in the hermetic builder).
 *
 * readdir() returns entries in the file system's order: hash order on ext4 (with a seed of each
 * file system), creation order on tmpfs. CPython's import system puts a directory's listing into
 * a set, and the probes of a set depend on the order its members came in, so the same build tree
 * on two file systems gave two profiles. With this library every directory is read whole at the
 * first readdir() and its entries are returned sorted by name.
 *
 * Only what CPython uses is covered: readdir/readdir64 on a DIR from opendir or fdopendir,
 * rewinddir and closedir. One thread (the training run checks that it has one).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
