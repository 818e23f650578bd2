/* Filling sasl_out_params_t: identities through the application's
 * canon_user, and the fields every mechanism without a security layer sets. */
#ifndef SASL_MECHS_OPARAMS_H
#define SASL_MECHS_OPARAMS_H

#include <stddef.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>

typedef int sm_canon_user_fn(sasl_conn_t *conn, const char *in, unsigned len,
                             unsigned flags, sasl_out_params_t *oparams);

/* Canonicalise authcid, and authzid when one is given (NULL or empty means
 * "act as authcid"); libsasl2's proxy policy decides later whether the
 * authcid may act as the authzid.  An authzid that is the authcid
 * (sm_same_identity) is canonicalised with it in one call, as both. */
int sm_set_identities(const sasl_utils_t *utils, sm_canon_user_fn *canon_user,
                      const char *authcid, unsigned authcid_len,
                      const char *authzid, unsigned authzid_len,
                      sasl_out_params_t *oparams);
/* The connection's auxprop property context, before a server looks up the
 * identities it is about to authenticate.  libsasl2 keeps one context per
 * connection across sasl_server_start calls, and an auxprop lookup keeps a
 * value already present: what an earlier attempt on the connection looked
 * up (another user's userPassword, home, quota ...) would stay, and the
 * application would read it after a later login as someone else.  So
 * every server calls this once per attempt, just before its first
 * canon_user of the identities it authenticates; the context then holds
 * only what those lookups find.
 * It erases (overwrites, then drops) every value and keeps every request,
 * the application's (sasl_auxprop_request) and the mechanisms'; then, when
 * names is not NULL, adds the mechanism's own properties (e.g.
 * "*userPassword") to the requests.  SASL_OK or libsasl2's error. */
int sm_props_begin(const sasl_utils_t *utils, struct propctx *ctx, const char **names);
/* Erase the values of the authorization identity's properties (names
 * without libsasl2's '*' prefix, which marks the authentication
 * identity's), so that a lookup of a distinct authorization identity fills
 * them: for a proxy login after a check that looked the authentication
 * identity up as both. */
void sm_props_forget_authzid(const sasl_utils_t *utils, struct propctx *ctx);
/* Erase every value (requests stay), as sm_props_begin does: what a server
 * calls when it disposes of its context (sm_server_dispose). */
void sm_props_forget(const sasl_utils_t *utils, struct propctx *ctx);

/* 1 when a name received from a client may be handed to canon_user: not
 * empty, and no white space at either end.  libsasl2 2.1.28 strips such
 * space but miscounts it, answering SASL_FAIL ("All-whitespace username.")
 * for an all-space name and for some that are not (" a"); SASL_FAIL reads as
 * a backend that is down (454, "try again").  A name nobody could mean, so
 * servers refuse it exactly as a wrong password instead. */
int sm_identity_acceptable(const char *name, size_t len);
/* 1 when the two names are the same bytes: an authzid that names the authcid
 * is no proxy login, and one canon_user call serves as both identities. */
int sm_same_identity(const char *a, size_t alen, const char *b, size_t blen);

/* Mark the exchange complete with no security layer. */
void sm_oparams_done(sasl_out_params_t *oparams);
/* The same fields but doneflag: a client that has said SASL_OK but must
 * still be able to answer a server's error challenge (libsasl2 refuses any
 * step once doneflag is set). */
void sm_oparams_no_layer(sasl_out_params_t *oparams);

#endif
