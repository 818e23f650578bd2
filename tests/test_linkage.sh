#!/bin/bash
# Each plugin links only what it uses: the shared helpers (common/, linked
# statically) bring OpenSSL's libcrypto and nothing else, so a plugin's
# NEEDED entries are libc, libcrypto and its own libraries: MIT Kerberos for
# GSSAPI, libcurl and jansson for the OAuth plugins.  A libsasl2 application
# that loads PLAIN must not pull in libcurl or krb5.  Prints TAP.
set -u
dir=${SM_PLUGIN_DIR:?SM_PLUGIN_DIR must name the built plugins (.libs)}
base="libc.so.6 libcrypto.so.3 ld-linux-x86-64.so.2 libpthread.so.0"

own_libraries() {  # the libraries a plugin may add to the base, by its file stem
    case $1 in
        gssapi) echo "libgssapi_krb5.so.2 libkrb5.so.3 libk5crypto.so.3 libcom_err.so.2 libkrb5support.so.0" ;;
        xoauth2|oauthbearer) echo "libcurl.so.4 libjansson.so.4" ;;
        *) echo "" ;;
    esac
}

if ! command -v readelf >/dev/null; then
    echo "1..1"; echo "not ok 1 - readelf not found (package binutils)"; exit 1
fi
plugins=("$dir"/libsaslmechs_*.so)
if [ ! -f "${plugins[0]}" ]; then
    echo "1..1"; echo "not ok 1 - no plugin in $dir"; exit 1
fi
echo "1..${#plugins[@]}"
n=0 failed=0
for f in "${plugins[@]}"; do
    n=$((n + 1))
    name=${f##*/}; stem=${name#libsaslmechs_}; stem=${stem%.so}
    allowed=" $base $(own_libraries "$stem") "
    needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    extra=
    for lib in $needed; do
        case $allowed in *" $lib "*) ;; *) extra="$extra $lib" ;; esac
    done
    if [ -n "$needed" ] && [ -z "$extra" ]; then
        echo "ok $n - $name links only $needed"
    else
        failed=1
        echo "not ok $n - $name links what it does not use:${extra:- (no NEEDED entry read)}"
    fi
done
exit $failed
