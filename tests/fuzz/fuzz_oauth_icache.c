/* libFuzzer target for plugins/oauth/oauth_icache.c: what the shared
 * introspection cache reads off the network.  Every input runs through
 * three passes, each with invariants that abort when broken:
 *
 *  1. the input as memcached's reply to "get KEY", whole and in every
 *     prefix: a prefix of a whole reply is never wrong (-1) nor whole (1)
 *     before its end; a whole reply's value lies inside the input.
 *  2. the input as a stored value, decoded under a key drawn afresh for
 *     every input (the oracle rule of fuzz_mech.c): anything but a miss
 *     would be a forgery, so it aborts.
 *  3. the input as JSON claims: when it is an object, "active": true is set
 *     and the value encoded under a fresh key; decoding it gives back
 *     ACTIVE, the same lifetime, and only the kept claims; the same value
 *     with one byte changed (chosen by the input) or under another key, or
 *     for another token, is a miss. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "oauth_icache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define NOW 1700000000
#define KEY_TEXT "sasl-mechs:oi:0123"

static void pass_reply(const char *in, size_t n)
{
    size_t off = 0, vlen = 0, i;
    int r = oauth_icache_parse_get_reply(in, n, KEY_TEXT, strlen(KEY_TEXT), &off, &vlen);

    CHECK(r >= -1 && r <= 1);
    if (r == 1) {
        CHECK(off + vlen <= n);
        CHECK(vlen <= OAUTH_ICACHE_MAX_VALUE);
        /* no shorter prefix is already whole, or wrong */
        for (i = 0; i < n && i < 64; i++) {
            size_t o2, v2;
            int p = oauth_icache_parse_get_reply(in, i, KEY_TEXT, strlen(KEY_TEXT), &o2, &v2);
            CHECK(p == 0);
        }
    }
}

static void pass_forgery(const char *in, size_t n, const unsigned char token_key[32])
{
    unsigned char secret[32];
    json_t *claims = NULL;
    time_t until = 0;
    struct oauth_err why;

    CHECK(RAND_bytes(secret, sizeof(secret)) == 1);
    CHECK(oauth_icache_decode(secret, sizeof(secret), token_key, in, n, NOW, &until, &claims,
                              &why) == OAUTH_ICACHE_MISS);
    CHECK(claims == NULL);
}

static int kept(const char *name)
{
    static const char *const k[] = {"active", "exp", "nbf", "iat", "iss", "aud", "scope",
                                    "scp", "sub", "email", "email_verified",
                                    "preferred_username", "upn", NULL};
    size_t i;

    for (i = 0; k[i]; i++)
        if (strcmp(k[i], name) == 0)
            return 1;
    return 0;
}

static void pass_roundtrip(const char *in, size_t n, const unsigned char token_key[32])
{
    unsigned char secret[32], other[32], key2[32];
    json_error_t jerr;
    json_t *obj = json_loadb(in, n, JSON_REJECT_DUPLICATES, &jerr), *back = NULL, *v;
    const char *name;
    char *val = NULL;
    size_t len = 0;
    time_t until = 0;
    struct oauth_err why;

    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        return;
    }
    json_object_set_new(obj, "active", json_true());
    CHECK(RAND_bytes(secret, sizeof(secret)) == 1 && RAND_bytes(other, sizeof(other)) == 1);
    if (oauth_icache_encode(secret, sizeof(secret), token_key, obj, NOW + 300, &val, &len) != 0) {
        json_decref(obj); /* too large */
        return;
    }
    CHECK(len <= OAUTH_ICACHE_MAX_VALUE && strlen(val) == len);
    CHECK(oauth_icache_decode(secret, sizeof(secret), token_key, val, len, NOW, &until, &back,
                              &why) == OAUTH_ICACHE_ACTIVE);
    CHECK(until == NOW + 300);
    json_object_foreach(back, name, v) {
        CHECK(kept(name));
        CHECK(json_equal(v, json_object_get(obj, name)));
    }
    json_object_foreach(obj, name, v)
        CHECK(!kept(name) || json_object_get(back, name));
    json_decref(back);
    back = NULL;
    /* another key, another token, one byte changed: a miss */
    CHECK(oauth_icache_decode(other, sizeof(other), token_key, val, len, NOW, &until, &back,
                              &why) == OAUTH_ICACHE_MISS);
    memcpy(key2, token_key, 32);
    key2[n % 32] ^= 1;
    CHECK(oauth_icache_decode(secret, sizeof(secret), key2, val, len, NOW, &until, &back, &why)
          == OAUTH_ICACHE_MISS);
    {
        size_t at = (n * 7919) % len;
        val[at] = (char)(val[at] ^ (1 + (n % 127)));
        CHECK(oauth_icache_decode(secret, sizeof(secret), token_key, val, len, NOW, &until,
                                  &back, &why) == OAUTH_ICACHE_MISS);
    }
    CHECK(back == NULL);
    free(val);
    json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char token_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const char *in = (const char *)data;

    pass_reply(in, size);
    pass_forgery(in, size, token_key);
    pass_roundtrip(in, size, token_key);
    return 0;
}
