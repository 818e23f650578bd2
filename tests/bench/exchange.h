/* What the benchmark and the thread test share: temporary plugin folders
 * (one mechanism, ours or Cyrus's, plus the sasldb auxprop) with a sasldb
 * user, libsasl2 initialised on one folder, and one full exchange.
 *
 * A "case" is a mechanism (PLAIN, LOGIN, CRAM-MD5: ours and Cyrus's) or one
 * of our OAuth mechanisms in one validation mode, MECH-MODE with MECH
 * XOAUTH2 or OAUTHBEARER and MODE RS256 (local validation against a JWKS
 * file, the signature verified at every exchange), RS256-CACHED (the same,
 * with the plugin's cache of verified tokens), INTROSPECT (RFC 7662, warm
 * cache) or JWKSURL (keys from an identity provider, for tests/bench/idp.sh,
 * which counts its requests): ours only, no Cyrus plugin has them.  An OAuth
 * case's server options and token come from the environment,
 * BENCH_OAUTH_<MODE>_OPTIONS (lines "name=value", handed to the plugin
 * through the getopt callback) and BENCH_OAUTH_<MODE>_TOKEN (the client's
 * password), MODE being RS256, RS256_CACHED, INTROSPECT or JWKSURL;
 * tests/bench/run.sh and idp.sh set them. */
#ifndef BENCH_EXCHANGE_H
#define BENCH_EXCHANGE_H

struct impl { const char *name, *prefix; };
extern const struct impl impls[2]; /* ours, cyrus */

/* 1 for a known case only we implement (the OAuth cases), 0 for a
 * mechanism both implement, -1 for an unknown name. */
int bx_ours_only(const char *name);
/* The bound the issue sets on an OAuth case's ratio to our PLAIN (1.3 for
 * local RS256 validation, 1.1 with a warm introspection cache); 0 if none. */
double bx_bound(const char *name);
/* The application shape of the next bx_init (before it; default global):
 * "global" (every callback at sasl_*_init, options through GETOPT) or
 * "conn" (GETPATH and LOG at sasl_*_init, the client's credentials through
 * sasl_client_new's callbacks, options in bench.conf; see exchange.c).
 * 0, or -1 for an unknown name. */
int bx_set_shape(const char *name);
const char *bx_shape_name(void);
/* Make the folders for these cases under a new temporary root (and our
 * PLAIN's, the OAuth cases' baseline). */
int bx_setup(int nmech, char **mechs);
/* Remove the temporary root. */
int bx_cleanup(void);
/* sasl_server_init and sasl_client_init on the folder of (impl, case). */
void bx_init(const struct impl *im, const char *mech);
/* One client+server exchange of the case bx_init set up; exits the process
 * when it does not succeed. */
void bx_exchange(const char *mech);

#endif
