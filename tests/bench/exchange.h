/* What the benchmark and the thread test share: temporary plugin folders
 * (one mechanism, ours or Cyrus's, plus the sasldb auxprop) with a sasldb
 * user, libsasl2 initialised on one folder, and one full exchange. */
#ifndef BENCH_EXCHANGE_H
#define BENCH_EXCHANGE_H

struct impl { const char *name, *prefix; };
extern const struct impl impls[2]; /* ours, cyrus */

/* Make the folders for these mechanisms under a new temporary root. */
int bx_setup(int nmech, char **mechs);
/* Remove the temporary root. */
int bx_cleanup(void);
/* sasl_server_init and sasl_client_init on the folder of (impl, mech). */
void bx_init(const struct impl *im, const char *mech);
/* One client+server exchange; exits the process when it does not succeed. */
void bx_exchange(const char *mech);

#endif
