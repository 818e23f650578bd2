#!/bin/bash
# GSSAPI end to end through Cyrus's sample programs (sasl2-bin), against a
# throwaway KDC (tests/krb5/kdc.sh): our server x our client, our server x
# Cyrus's gssapiv2 client, Cyrus's server x our client, and Cyrus x Cyrus as
# the reference, each with -b min=0,max=0 (no security layer), with
# -b min=1,max=1 (integrity) and with -b min=56,max=256 (confidentiality).
# The programs exchange one sasl_encode'd message each way after
# authentication (sm_exchange checks both arrive decoded) and the server
# prints the SSF it negotiated.  The user each server reports, with no
# option set: alice for alice@REALM (the default realm), as Cyrus's does;
# then, with the programs' krb5.conf naming another default realm (so that
# alice@REALM is a foreign-realm principal, as a cross-realm user is), the
# short authorization identity alice refused and the full principal name
# accepted by every server alike.  TAP.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PAIRS=("ours ours" "ours cyrus" "cyrus ours" "cyrus cyrus")
LAYERS=("none:min=0,max=0:0" "integrity:min=1,max=1:1" "confidentiality:min=56,max=256:256")
sm_plan $((${#PAIRS[@]} * ${#LAYERS[@]} + 2 * ${#PAIRS[@]} + 1))
sm_init

blocked=
missing=$(sm_missing_programs sasl-sample-server sasl-sample-client setsid timeout stdbuf mkfifo \
    krb5kdc kdb5_util kadmin.local kinit)
[ -n "$missing" ] && blocked="missing programs: $missing (packages sasl2-bin krb5-kdc krb5-admin-server krb5-user)"
[ -f "$SM_PLUGIN_DIR/libsaslmechs_gssapi.so" ] || blocked="${blocked:+$blocked; }our GSSAPI plugin is not built"
[ -f "$SM_SYSTEM_PLUGIN_DIR/libgssapiv2.so" ] || blocked="${blocked:+$blocked; }no Cyrus gssapiv2 (package libsasl2-modules-gssapi-mit)"

if [ -z "$blocked" ]; then
    if sm_kdc_start; then
        sm_ok "throwaway KDC: $(tail -1 "$SM_TMP/kdc.out")"
    else
        blocked=$SM_KDC_WHY
        sm_not_ok "throwaway KDC" "$blocked"
    fi
else
    sm_not_ok "throwaway KDC" "cannot run: $blocked"
fi

# no option: both servers drop the default realm by themselves, so that the
# sample client's authorization identity (-u alice) is the authenticated user
CONF=$SM_TMP/conf
sm_write_conf "$CONF"

for pair in "${PAIRS[@]}"; do
    read -r simpl cimpl <<<"$pair"
    for layer in "${LAYERS[@]}"; do
        IFS=: read -r lname bits ssf <<<"$layer"
        desc="GSSAPI $simpl server x $cimpl client, $lname layer"
        if [ -n "$blocked" ]; then
            sm_not_ok "$desc" "cannot run: $blocked"
            continue
        fi
        sdir=$SM_TMP/plug-$simpl; cdir=$SM_TMP/plug-$cimpl
        [ -d "$sdir" ] || sm_mkplugdir "$sdir" "$simpl" GSSAPI sasldb
        [ -d "$cdir" ] || sm_mkplugdir "$cdir" "$cimpl" GSSAPI sasldb
        SM_SERVER_ARGS=() SM_CLIENT_ARGS=()
        if [ -n "$bits" ]; then
            SM_SERVER_ARGS=(-b "$bits")
            SM_CLIENT_ARGS=(-b "$bits")
        fi
        if ! sm_exchange "gss-$simpl-$cimpl-$lname" GSSAPI "$sdir" "$cdir" "$CONF" alice unused; then
            sm_not_ok "$desc"
            sm_exchange_diag
        elif [ "$SM_X_USER" != alice ]; then
            sm_not_ok "$desc" "the server authenticated '$SM_X_USER', expected 'alice'"
            sm_exchange_diag
        elif ! grep -q "^SSF: $ssf\$" "$SM_X_DIR/server.out"; then
            sm_not_ok "$desc" "the server did not report SSF $ssf: $(grep '^SSF' "$SM_X_DIR/server.out")"
            sm_exchange_diag
        else
            sm_ok "$desc: SSF $ssf, one message each way through the layer, user alice"
        fi
    done
done

# a foreign-realm principal: alice@REALM where the default realm is another
SM_SERVER_ARGS=(-b "min=56,max=256") SM_CLIENT_ARGS=(-b "min=56,max=256")
for pair in "${PAIRS[@]}"; do
    read -r simpl cimpl <<<"$pair"
    desc="GSSAPI $simpl server x $cimpl client, foreign-realm principal"
    if [ -n "$blocked" ]; then
        sm_not_ok "$desc, authzid alice" "cannot run: $blocked"
        sm_not_ok "$desc, authzid with the realm" "cannot run: $blocked"
        continue
    fi
    sdir=$SM_TMP/plug-$simpl; cdir=$SM_TMP/plug-$cimpl
    if KRB5_CONFIG=$SM_KRB5_FOREIGN_CONFIG sm_exchange "gss-$simpl-$cimpl-foreign-short" GSSAPI \
        "$sdir" "$cdir" "$CONF" alice unused; then
        sm_not_ok "$desc, authzid alice: accepted, so the server took $SM_KRB5_USER for alice"
        sm_exchange_diag
    elif sm_refused; then
        sm_ok "$desc, authzid alice: refused ($SM_KRB5_USER is not alice)"
    else
        sm_not_ok "$desc, authzid alice" "$SM_X_WHY"
        sm_exchange_diag
    fi
    if ! KRB5_CONFIG=$SM_KRB5_FOREIGN_CONFIG sm_exchange "gss-$simpl-$cimpl-foreign-full" GSSAPI \
        "$sdir" "$cdir" "$CONF" "$SM_KRB5_USER" unused; then
        sm_not_ok "$desc, authzid $SM_KRB5_USER"
        sm_exchange_diag
    elif [ "$SM_X_USER" != "$SM_KRB5_USER" ]; then
        sm_not_ok "$desc" "the server authenticated '$SM_X_USER', expected '$SM_KRB5_USER'"
        sm_exchange_diag
    else
        sm_ok "$desc, authzid $SM_KRB5_USER: accepted, user $SM_KRB5_USER (the realm kept)"
    fi
done
sm_done
