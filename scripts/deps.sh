#!/bin/sh
# Install every Debian 12 package sasl-mechs needs to build and test.
# Idempotent; run as root (or through sudo).
set -eu
PACKAGES="
  build-essential autoconf automake libtool pkg-config gawk
  libsasl2-dev libsasl2-modules libsasl2-modules-sql sasl2-bin sqlite3
  libssl-dev openssl libcmocka-dev
  libkrb5-dev libcurl4-openssl-dev libjansson-dev
  clang libclang-rt-14-dev valgrind
  util-linux procps passwd python3
  postfix curl gsasl swaks libauthen-ntlm-perl
  krb5-kdc krb5-admin-server krb5-user libsasl2-modules-gssapi-mit
  cyrus-imapd cyrus-clients
  slapd ldap-utils
"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Postfix installs unconfigured: the tests bring their own configuration
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# slapd likewise: no database of its own (tests/interop/test_ldap.sh brings one)
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
