#!/usr/bin/env bash
#
# configure-nginx.sh SRC BUILD MODULE_DIR -- prepares an nginx build tree
# for the shmingress module.
#
# Copies nginx's source/build tree (Debian's nginx-dev ships it in
# /usr/share/nginx/src) to BUILD and runs ./configure there with the exact
# flags of Debian's nginx binary (conf_flags), so the module loads into the
# stock /usr/sbin/nginx.  Building is left to `make -f objs/Makefile
# modules`; this script only configures.

set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 NGINX_SRC BUILD_DIR MODULE_DIR" >&2
    exit 2
fi

src=$1
build=$2
module=$(cd "$3" && pwd)

if [ ! -x "$src/configure" ] || [ ! -f "$src/conf_flags" ]; then
    echo "$0: no nginx build tree in $src: install nginx-dev" >&2
    exit 1
fi

rm -rf "$build"
cp -a "$src" "$build"
cd "$build"

# shellcheck disable=SC1091
. ./conf_flags

# Debian also builds nginx with these compiler flags; they change code
# generation and hardening, not the module ABI.
cc_opt="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
cc_opt="$cc_opt -Wdate-time -D_FORTIFY_SOURCE=2"

if ! ./configure "${NGX_CONF_FLAGS[@]}" --with-cc-opt="$cc_opt" \
        --add-dynamic-module="$module" >configure.log 2>&1; then
    tail -n 30 configure.log >&2
    echo "$0: nginx configure failed; full log in $build/configure.log" >&2
    exit 1
fi
