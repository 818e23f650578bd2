/* The client's credential dance: ask the application's callbacks first and
 * fall back to SASL_INTERACT prompts for whatever no callback supplied. */
#ifndef SASL_MECHS_PROMPT_H
#define SASL_MECHS_PROMPT_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

enum {
    SM_WANT_AUTHNAME = 1u << 0,
    SM_WANT_AUTHZID = 1u << 1, /* optional: none when the application has no SASL_CB_USER */
    SM_WANT_PASSWORD = 1u << 2,
};

/* Each value is the application's (from a callback, valid for the exchange)
 * or a copy of a prompt's answer (owned; the password erased on dispose). */
struct sm_creds {
    const char *authname;
    const char *authzid;   /* NULL when none */
    const char *password;  /* password_len bytes, NUL-terminated when owned */
    unsigned password_len;
    unsigned have;         /* SM_WANT_* already obtained */
    unsigned owned;        /* SM_WANT_* that are copies */
};

/* Return SASL_OK when every wanted item is in c, SASL_INTERACT with
 * *prompt_need filled (the caller returns it to the application), or an
 * error.  Call again with the answered prompts on the next step. */
int sm_get_creds(sasl_client_params_t *params, unsigned want,
                 sasl_interact_t **prompt_need, struct sm_creds *c);
void sm_creds_dispose(const sasl_utils_t *utils, struct sm_creds *c);

#endif
