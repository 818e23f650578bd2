/* Reader of the test-vector files in tests/vectors; see vectors.h. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vectors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char errbuf[512];

__attribute__((format(printf, 1, 2))) static void set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
    va_end(ap);
}

const char *vec_error(void)
{
    return errbuf[0] ? errbuf : "no error";
}

void vec_free(struct vec_file *f)
{
    size_t i, j;

    if (!f)
        return;
    for (i = 0; i < f->ncases; i++) {
        for (j = 0; j < f->cases[i].nfields; j++) {
            free(f->cases[i].fields[j].key);
            free(f->cases[i].fields[j].value);
        }
        free(f->cases[i].fields);
        free(f->cases[i].name);
    }
    free(f->cases);
    free(f->path);
    free(f);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int add_case(struct vec_file *f, const char *name)
{
    struct vec_case *c = realloc(f->cases, (f->ncases + 1) * sizeof(*c));

    if (!c)
        return -1;
    f->cases = c;
    c += f->ncases;
    memset(c, 0, sizeof(*c));
    if (!(c->name = dup_n(name, strlen(name))))
        return -1;
    f->ncases++;
    return 0;
}

static int add_field(struct vec_case *c, const char *key, size_t keylen, const char *value)
{
    struct vec_field *fl = realloc(c->fields, (c->nfields + 1) * sizeof(*fl));

    if (!fl)
        return -1;
    c->fields = fl;
    fl += c->nfields;
    fl->key = dup_n(key, keylen);
    fl->value = dup_n(value, strlen(value));
    if (!fl->key || !fl->value) {
        free(fl->key);
        free(fl->value);
        return -1;
    }
    c->nfields++;
    return 0;
}

struct vec_file *vec_load(const char *filename)
{
    const char *dir = getenv("SM_VECTORS_DIR");
    struct vec_file *f;
    char *line = NULL;
    size_t cap = 0, lineno = 0, plen;
    ssize_t n;
    int in_case = 0, ok = 1;
    FILE *fp;

    errbuf[0] = '\0';
    if (!dir || !*dir)
        dir = "tests/vectors";
    if (!(f = calloc(1, sizeof(*f))))
        return NULL;
    plen = strlen(dir) + 1 + strlen(filename) + 1;
    if (!(f->path = malloc(plen))) {
        free(f);
        return NULL;
    }
    snprintf(f->path, plen, "%s/%s", dir, filename);
    if (!(fp = fopen(f->path, "r"))) {
        set_error("cannot open %s: %s (set SM_VECTORS_DIR to the tests/vectors directory)",
                  f->path, strerror(errno));
        vec_free(f);
        return NULL;
    }
    while (ok && (n = getline(&line, &cap, fp)) >= 0) {
        size_t len = (size_t)n;
        const char *sep;

        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (memchr(line, '\0', len)) {
            set_error("%s:%zu: NUL byte in line", f->path, lineno);
            ok = 0;
        } else if (len == 0) {
            in_case = 0;
        } else if (line[0] == '#') {
            continue;
        } else if ((sep = strstr(line, ": ")) || line[len - 1] == ':') {
            size_t keylen = sep ? (size_t)(sep - line) : len - 1;
            const char *value = sep ? sep + 2 : "";

            if (keylen == 4 && memcmp(line, "case", 4) == 0) {
                if (!*value) {
                    set_error("%s:%zu: case without a name", f->path, lineno);
                    ok = 0;
                } else if (add_case(f, value) != 0) {
                    set_error("out of memory");
                    ok = 0;
                }
                in_case = 1;
            } else if (in_case) {
                if (keylen == 0) {
                    set_error("%s:%zu: empty key", f->path, lineno);
                    ok = 0;
                } else if (add_field(&f->cases[f->ncases - 1], line, keylen, value) != 0) {
                    set_error("out of memory");
                    ok = 0;
                }
            } /* else: a header line */
        } else if (in_case) {
            set_error("%s:%zu: not a \"key: value\" line", f->path, lineno);
            ok = 0;
        }
    }
    if (ok && ferror(fp)) {
        set_error("%s: read error", f->path);
        ok = 0;
    }
    free(line);
    fclose(fp);
    if (ok && f->ncases == 0) {
        set_error("%s: no test cases in the file", f->path);
        ok = 0;
    }
    if (!ok) {
        vec_free(f);
        return NULL;
    }
    return f;
}

const struct vec_case *vec_find(const struct vec_file *f, const char *name)
{
    size_t i;

    for (i = 0; f && i < f->ncases; i++)
        if (strcmp(f->cases[i].name, name) == 0)
            return &f->cases[i];
    return NULL;
}

const char *vec_get(const struct vec_case *c, const char *key)
{
    size_t i;

    for (i = 0; c && i < c->nfields; i++)
        if (strcmp(c->fields[i].key, key) == 0)
            return c->fields[i].value;
    return NULL;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

unsigned char *vec_get_hex(const struct vec_case *c, const char *key, size_t *len)
{
    const char *v = vec_get(c, key);
    unsigned char *out;
    size_t n, i;

    if (!v) {
        set_error("case %s: no field \"%s\"", c ? c->name : "(none)", key);
        return NULL;
    }
    n = strlen(v);
    if (n % 2) {
        set_error("case %s: field %s: odd number of hex digits", c->name, key);
        return NULL;
    }
    if (!(out = malloc(n / 2 + 1))) {
        set_error("out of memory");
        return NULL;
    }
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            set_error("case %s: field %s: not hex at offset %zu", c->name, key, 2 * i);
            free(out);
            return NULL;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}

int vec_run_group(const char *group, const char *filename, const char *check_desc,
                  CMUnitTestFunction check_file, CMUnitTestFunction case_fn,
                  const char *case_suffix, const struct CMUnitTest *fixed, size_t nfixed)
{
    struct vec_file *vf = vec_load(filename);
    size_t ncases = vf ? vf->ncases : 0, i, n = 0;
    struct CMUnitTest *tests = calloc(nfixed + 1 + ncases, sizeof(*tests));
    char **names = calloc(ncases + 1, sizeof(*names));
    int rc = 1;

    if (!tests || !names)
        goto out;
    tests[n++] = (struct CMUnitTest){check_desc, check_file, NULL, NULL, vf};
    for (i = 0; i < ncases; i++) {
        size_t len = strlen(vf->cases[i].name) + strlen(case_suffix) + 16;
        if (!(names[i] = malloc(len)))
            goto out;
        snprintf(names[i], len, "vector %s%s", vf->cases[i].name, case_suffix);
        tests[n++] = (struct CMUnitTest){names[i], case_fn, NULL, NULL, &vf->cases[i]};
    }
    for (i = 0; i < nfixed; i++)
        tests[n++] = fixed[i];
    rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
out:
    for (i = 0; names && i < ncases; i++)
        free(names[i]);
    free(names);
    free(tests);
    vec_free(vf);
    return rc;
}
