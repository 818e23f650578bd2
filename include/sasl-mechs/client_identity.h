/* The first step of a client that proves a password (PLAIN, LOGIN,
 * CRAM-MD5): the credentials, checked, and the identities as the
 * application's canon_user makes them. */
#ifndef SASL_MECHS_CLIENT_IDENTITY_H
#define SASL_MECHS_CLIENT_IDENTITY_H

#include <sasl-mechs/plugin.h>

enum {
    /* the mechanism sends the password itself (PLAIN, LOGIN), not a proof
     * made with it (CRAM-MD5): an empty one or one with a NUL, which its
     * grammar cannot carry, is refused */
    SM_PASSWORD_SENT = 1u << 0,
};

/* Obtain c->creds (sm_get_creds; want is SM_WANT_*), refuse an empty user
 * name (and, with SM_PASSWORD_SENT in checks, a password the mechanism
 * cannot send) as SASL_BADPARAM, and canonicalise the user name, and the
 * authzid when there is one, into io->oparams.  The names to send are then
 * oparams->authid (alen bytes, never empty) and, with an authzid,
 * oparams->user: the application's canon_user may have mapped them.
 * SASL_OK, SASL_INTERACT with *io->prompt_need filled (the step returns
 * it), or a failure with its errdetail, named by c->mech. */
int sm_client_identities(struct sm_client *c, const struct sm_step_io *io, unsigned want,
                         unsigned checks);

#endif
