/* A reader of the test-vector files in tests/vectors (format: see
 * ../shared/vectors/README.md): cases start with "case: NAME", then
 * "key: value" lines split at the first ": " ("key:" alone is an empty
 * value), '#' starts a comment line, blank lines separate cases, and the
 * header before the first case is skipped.  "_hex" values are exact bytes. */
#ifndef SM_TEST_VECTORS_H
#define SM_TEST_VECTORS_H

#include <stddef.h>

struct vec_field {
    char *key;
    char *value;
};

struct vec_case {
    char *name;
    struct vec_field *fields;
    size_t nfields;
};

struct vec_file {
    char *path;
    struct vec_case *cases;
    size_t ncases;
};

/* Load $SM_VECTORS_DIR/<filename> (tests/vectors when the variable is unset).
 * On failure return NULL; vec_error() then says why. */
struct vec_file *vec_load(const char *filename);
void vec_free(struct vec_file *f);
const char *vec_error(void);

/* NULL when there is no such case / key. */
const struct vec_case *vec_find(const struct vec_file *f, const char *name);
const char *vec_get(const struct vec_case *c, const char *key);

/* Hex-decode the value of key into a malloc'd buffer (never NULL on
 * success, even for an empty value) and set *len; NULL when the key is
 * missing or not an even number of hex digits (vec_error() says which). */
unsigned char *vec_get_hex(const struct vec_case *c, const char *key, size_t *len);

/* For test code that includes cmocka.h (before this header): a group whose
 * first test checks the file (check_file, state: the vec_file or NULL when it
 * did not load, vec_error() then says why), then one test per case (case_fn,
 * state: the vec_case, named "vector NAME" + case_suffix), then the fixed
 * tests.  Returns cmocka's result. */
#ifdef cmocka_unit_test
int vec_run_group(const char *group, const char *filename, const char *check_desc,
                  CMUnitTestFunction check_file, CMUnitTestFunction case_fn,
                  const char *case_suffix, const struct CMUnitTest *fixed, size_t nfixed);
#endif

/* For test code that includes cmocka.h: load or fail the current test. */
#define VEC_LOAD_OR_FAIL(var, filename)                                   \
    do {                                                                  \
        (var) = vec_load(filename);                                       \
        if (!(var))                                                       \
            fail_msg("test vectors unavailable: %s", vec_error());        \
    } while (0)

#define VEC_GET_OR_FAIL(var, c, key)                                      \
    do {                                                                  \
        (var) = vec_get((c), (key));                                      \
        if (!(var))                                                       \
            fail_msg("case %s: no field \"%s\"", (c)->name, (key));       \
    } while (0)

#define VEC_HEX_OR_FAIL(var, lenvar, c, key)                              \
    do {                                                                  \
        (var) = vec_get_hex((c), (key), &(lenvar));                       \
        if (!(var))                                                       \
            fail_msg("%s", vec_error());                                  \
    } while (0)

#endif
