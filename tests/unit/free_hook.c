/* An LD_PRELOAD hook on free() (and realloc(), whose moves free the old
 * block) that keeps, while armed, a copy of every block freed: the test then
 * asks how many freed blocks held a given secret (an access token, a refresh
 * token, a client secret), which must be none when the code under test
 * erases its secrets before freeing them.  Tokens that the code under test
 * receives while armed (a refresh's new tokens) are known only afterwards,
 * hence the copies rather than a scan at free time.  Blocks are zeroed when
 * freed, so that a block holds nothing of an earlier owner's.
 *
 * Used by tests/unit/test_oauth_erasure.c, which finds these functions with
 * dlsym and re-executes itself with LD_PRELOAD set when they are missing,
 * and by tests/interop/test_token_tool.sh through SM_FREE_HOOK_DUMP (below).
 * glibc routes its own internal allocations through an interposed malloc
 * family, so libcurl's, jansson's and libc's frees are all seen.  The copies
 * live in an mmap'ed arena, never in the heap being watched. */
#define _GNU_SOURCE 1
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);

/* exported whatever the build's default visibility: free and realloc
 * interpose libc's, the others are what the test finds with dlsym */
#define EXPORT __attribute__((visibility("default")))
EXPORT void free(void *p);
EXPORT void *realloc(void *p, size_t n);
EXPORT void sm_free_hook_arm(int on);
EXPORT long sm_free_hook_blocks(void);
EXPORT long sm_free_hook_hits(const void *s, size_t len);

#define ARENA_SIZE ((size_t)256 << 20)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *arena;  /* [size_t len][len bytes] ... */
static size_t used;
static int armed, overflowed;
static size_t recorded;

static void keep(const void *p, size_t n)
{
    pthread_mutex_lock(&lock);
    if (armed) {
        if (!arena) {
            void *a = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            arena = a == MAP_FAILED ? NULL : a;
        }
        if (!arena || used + sizeof(size_t) + n > ARENA_SIZE) {
            overflowed = 1;
        } else {
            memcpy(arena + used, &n, sizeof(size_t));
            memcpy(arena + used + sizeof(size_t), p, n);
            used += sizeof(size_t) + n;
            recorded++;
        }
    }
    pthread_mutex_unlock(&lock);
}

/* Every block is zeroed once kept, armed or not: what a block holds when
 * it is freed is then only what was written during its own life, never
 * what an earlier owner of the same memory left there (the test's own
 * copies of the secrets, say). */
void free(void *p)
{
    if (p) {
        size_t n = malloc_usable_size(p);
        keep(p, n);
        explicit_bzero(p, n);
    }
    __libc_free(p);
}

void *realloc(void *p, size_t n)
{
    size_t old;
    void *q;

    if (!p)
        return __libc_malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    /* always moved, so that the old block is seen as freed */
    old = malloc_usable_size(p);
    if (!(q = __libc_malloc(n)))
        return NULL;
    memcpy(q, p, old < n ? old : n);
    free(p);
    return q;
}

/* ---- the test's side ------------------------------------------------------- */

/* 1: start recording (forgetting what was recorded), 0: stop. */
void sm_free_hook_arm(int on)
{
    pthread_mutex_lock(&lock);
    if (on) {
        used = 0;
        recorded = 0;
        overflowed = 0;
    }
    armed = on;
    pthread_mutex_unlock(&lock);
}

/* Freed blocks recorded; -1 when the arena overflowed (the count would be
 * wrong). */
long sm_free_hook_blocks(void)
{
    return overflowed ? -1 : (long)recorded;
}

/* How many recorded blocks contain the len bytes of s. */
long sm_free_hook_hits(const void *s, size_t len)
{
    size_t off = 0, n;
    long hits = 0;

    if (!len || !arena)
        return 0;
    pthread_mutex_lock(&lock);
    while (off < used) {
        memcpy(&n, arena + off, sizeof(size_t));
        if (memmem(arena + off + sizeof(size_t), n, s, len))
            hits++;
        off += sizeof(size_t) + n;
    }
    pthread_mutex_unlock(&lock);
    return hits;
}

/* ---- a whole program's frees ---------------------------------------------------- */

/* With SM_FREE_HOOK_DUMP=FILE in the environment (the token tool's tests):
 * armed from the start, and every freed block written to FILE at exit, for
 * the test to search for the secrets it learns afterwards. */
__attribute__((constructor)) static void sm_free_hook_env_arm(void)
{
    if (getenv("SM_FREE_HOOK_DUMP"))
        sm_free_hook_arm(1);
}

__attribute__((destructor)) static void sm_free_hook_env_dump(void)
{
    const char *f = getenv("SM_FREE_HOOK_DUMP");
    size_t off = 0;
    int fd;

    if (!f || (fd = open(f, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return;
    pthread_mutex_lock(&lock);
    armed = 0;
    while (arena && off < used) {
        ssize_t w = write(fd, arena + off, used - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (overflowed)
        (void)!write(fd, "\nOVERFLOWED\n", 12);
    pthread_mutex_unlock(&lock);
    close(fd);
}
