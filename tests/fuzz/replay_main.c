/* Replays every file of the given corpus folders (or the given files)
 * through a fuzz target without libFuzzer (so `make check` keeps every
 * crash ever found fixed).  Prints TAP: one case per argument. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exact-size heap copy of the file, so ASan/valgrind see any overread. */
static int replay_file(const char *path)
{
    unsigned char *buf;
    FILE *f;
    long len;

    if (!(f = fopen(path, "rb")))
        return -1;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    buf = malloc(len > 0 ? (size_t)len : 1);
    if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)
        len = 0;
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)(len > 0 ? len : 0));
    free(buf);
    return 0;
}

static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long n = 0;

    if (!d)
        return replay_file(dir) == 0 ? 1 : -1;
    while ((e = readdir(d))) {
        char path[4096];

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (replay_file(path) == 0)
            n++;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    int i, failed = 0;

    printf("1..%d\n", argc - 1);
    for (i = 1; i < argc; i++) {
        long n = replay_dir(argv[i]);
        if (n <= 0) {
            printf("not ok %d - corpus %s missing or empty\n", i, argv[i]);
            failed = 1;
        } else {
            printf("ok %d - %ld inputs of %s replayed\n", i, n, argv[i]);
        }
    }
    return failed;
}
