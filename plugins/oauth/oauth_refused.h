/* A token the server refused, recorded in the token file so that the next
 * use refreshes it whatever its expiry says.
 *
 * Providers revoke or rotate access tokens before they expire (a password
 * change, an administrator's sign-out, Google's {"status":"401",...} for a
 * token it no longer takes, an OAUTHBEARER server's invalid_token).  The
 * token file would go on handing out the refused token until its
 * expires_at, and every process that reads it (Postfix starts and ends smtp
 * processes all the time) would be refused the same way.  So the process
 * that was refused records it in the file, under the file's lock, and only
 * when the file still holds the token it sent (another process may have
 * refreshed it meanwhile: then its new token is left alone): expires_at is
 * set to the time of the refusal (not earlier than obtained_at), the token
 * is due, and the next use refreshes it (or, without a refresh_token, fails
 * as an expired token does).  The token is recognised by its SHA-256, so
 * the caller keeps no copy of it.  The time is kept as "refused_at", and a
 * refusal within OAUTH_REFUSED_MIN_INTERVAL of the last recorded one is not
 * recorded: a server (or a relay in the middle) that refuses every token
 * gets one forced refresh per interval, not one per connection, which the
 * identity provider would throttle; the token is then replaced at its
 * expiry as usual. */
#ifndef OAUTH_REFUSED_H
#define OAUTH_REFUSED_H

#include <stddef.h>

#include "oauth_tokenfile.h"

#define OAUTH_REFUSED_HASH_LEN 32
#define OAUTH_REFUSED_MIN_INTERVAL 600 /* seconds */

/* The SHA-256 of a token, as oauth_tokenfile_refused wants it: 0, or -1. */
int oauth_refused_hash(const char *token, size_t len,
                       unsigned char out[OAUTH_REFUSED_HASH_LEN]);

/* Record that the token whose hash is sent was refused, if the file still
 * holds it.  *marked (may be NULL) is set to 1 when the file was changed, 0
 * when it holds another token (or none) or a refusal was recorded less than
 * OAUTH_REFUSED_MIN_INTERVAL ago.  Statuses as oauth_tokenfile_update. */
enum oauth_tokenfile_status oauth_tokenfile_refused(const char *path,
                                                    const struct oauth_tokenfile_options *o,
                                                    const unsigned char sent[OAUTH_REFUSED_HASH_LEN],
                                                    int *marked, struct oauth_err *err);

#endif
