/* A refused token recorded in the token file: see oauth_refused.h. */
#include "config.h"
#include "oauth_refused.h"

#include <string.h>
#include <time.h>

#include <sasl-mechs/crypto.h>
#include <sasl-mechs/secret.h>

int oauth_refused_hash(const char *token, size_t len, unsigned char out[OAUTH_REFUSED_HASH_LEN])
{
    size_t n = 0;

    if (!token || sm_digest("SHA256", token, len, out, OAUTH_REFUSED_HASH_LEN, &n) != 0
        || n != OAUTH_REFUSED_HASH_LEN)
        return -1;
    return 0;
}

struct refusal {
    const unsigned char *sent;
    int marked;
};

static int refused_change(json_t *root, void *arg, struct oauth_err *err)
{
    struct refusal *rf = arg;
    json_t *at = json_object_get(root, "access_token");
    json_t *ob = json_object_get(root, "obtained_at");
    json_t *ra = json_object_get(root, "refused_at");
    unsigned char h[OAUTH_REFUSED_HASH_LEN];
    json_int_t when = (json_int_t)time(NULL);

    if (!json_is_string(at) || json_string_length(at) == 0)
        return 0; /* no token: nothing to mark */
    if (oauth_refused_hash(json_string_value(at), json_string_length(at), h) != 0) {
        oauth_why(err, "SHA-256 not available");
        return -1;
    }
    if (!sm_ct_equal(h, rf->sent, sizeof(h)))
        return 0; /* another process has refreshed it already */
    /* at most one refresh forced by refusals per interval: a server that
     * refuses every token would otherwise cost one per connection */
    if (json_is_integer(ra) && json_integer_value(ra) <= when
        && when - json_integer_value(ra) < OAUTH_REFUSED_MIN_INTERVAL)
        return 0;
    /* the token file's reader refuses obtained_at later than expires_at */
    if (json_is_integer(ob) && json_integer_value(ob) > when)
        when = json_integer_value(ob);
    if (json_object_set_new(root, "refused_at", json_integer((json_int_t)time(NULL))) != 0
        || json_object_set_new(root, "expires_at", json_integer(when)) != 0) {
        oauth_why(err, "out of memory");
        return -1;
    }
    rf->marked = 1;
    return 1;
}

enum oauth_tokenfile_status oauth_tokenfile_refused(const char *path,
                                                    const struct oauth_tokenfile_options *o,
                                                    const unsigned char sent[OAUTH_REFUSED_HASH_LEN],
                                                    int *marked, struct oauth_err *err)
{
    struct refusal rf = {sent, 0};
    enum oauth_tokenfile_status st = oauth_tokenfile_update(path, o, refused_change, &rf, err);

    if (marked)
        *marked = st == OAUTH_TOKENFILE_OK && rf.marked;
    return st;
}
