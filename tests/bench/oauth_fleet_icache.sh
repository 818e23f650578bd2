#!/bin/bash
# Identity-provider introspection requests per 1,000 logins over a fleet of
# smtpd processes, per-process cache against the cache shared through
# memcached (tests/bench/oauth_fleet_icache.c says what is measured).  Run by
# `make bench`; needs python3 (the loopback OAuth server) and Debian's
# memcached (scripts/deps.sh).  Both servers listen on 127.0.0.1 only and are
# stopped by the program itself (and killed with it, PR_SET_PDEATHSIG).
# Environment: SM_SRCDIR, SM_BUILDDIR (make bench sets them),
# BENCH_FLEET_USERS (200).
set -u
: "${SM_SRCDIR:?}" "${SM_BUILDDIR:?}"
export SM_SRCDIR SM_BUILDDIR
exec "$SM_BUILDDIR/tests/bench/oauth_fleet_icache"
