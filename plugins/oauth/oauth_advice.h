/* What to do about a token endpoint's refusal, for the administrator who
 * reads the log line or the errdetail.
 *
 * A refused refresh names an OAuth error code (RFC 6749 section 5.2) that
 * says little by itself: invalid_grant is a refresh token that expired,
 * was revoked or never had the consent it needed.  Microsoft's identity
 * platform adds an AADSTS number (in "error_codes" and at the head of its
 * error_description, which is too long and carries trace ids), and that
 * number says which it is.  oauth_advice turns the answer into one short
 * sentence: the fix, and when a person must sign in again, the command that
 * does it (sasl-mechs-token obtain --force --file FILE).  Only the code, the AADSTS
 * number and the file's path reach the text: never the description itself
 * (the token file code quotes it when it holds no secret), a token or a
 * secret. */
#ifndef OAUTH_ADVICE_H
#define OAUTH_ADVICE_H

#include <stddef.h>

#include <jansson.h>

/* The longest advice written, with a path of up to 64 bytes. */
#define OAUTH_ADVICE_MAX 320

/* The AADSTS number of a Microsoft answer ("error_codes": [70008], or
 * "AADSTS70008:" at the head of error_description), or 0. */
long oauth_advice_aadsts(json_t *answer);

/* Advice for the error answer (a JSON object; NULL or anything else gives
 * the advice for its code alone, when code is given) about the token file
 * `file` (NULL: "FILE"): written into out (n bytes, NUL-terminated, cut if
 * short), returning its length, 0 when there is no advice (out ""). */
size_t oauth_advice(json_t *answer, const char *file, char *out, size_t n);
/* The same from the answer's error code (NULL: none) and AADSTS number (0:
 * none), as the grant module keeps them (oauth_grant_tokens). */
size_t oauth_advice_for(const char *code, long aadsts, const char *file, char *out, size_t n);

#endif
