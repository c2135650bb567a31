# Shared by the toolchain recipes (sourced, not run). Each recipe builds one family of binaries
# from Go modules into $bin and records a stamp of its sources; a recipe whose stamp matches and
# whose binaries are there has nothing to do.
#
#   $MTLS_TOOLCHAIN_CACHE   cache root (default ~/.cache/mtls-ingress/toolchain)
#   $bin                    the engine and the control plane ($MTLS_TOOLCHAIN_CACHE/bin)
#   $plugins                provider plugins ($MTLS_TOOLCHAIN_CACHE/plugins), kept off PATH:
#                           install-plugins.sh installs them where the engine looks first
#   $work                   scratch folder of the recipe ($MTLS_TOOLCHAIN_CACHE/build/<recipe>)

toolchain_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${MTLS_TOOLCHAIN_CACHE:-$HOME/.cache/mtls-ingress/toolchain}
bin=$cache/bin
plugins=$cache/plugins
mkdir -p "$bin" "$plugins" "$cache/stamps" "$cache/build"

# pinned NAME: the version pinned for the Python package NAME in requirements.txt.
pinned() {
    sed -n "s/^$1==\(.*\)\$/\1/p" "$toolchain_dir/../requirements.txt"
}

# stamp_of PINS FILE...: a short digest of the pinned versions, lib.sh and the given files.
stamp_of() {
    { echo "$1"; shift; cat "$toolchain_dir/lib.sh" "$@"; } | sha256sum | cut -c1-16
}

# current RECIPE STAMP BINARY...: true when the recipe was built from these sources and every
# binary (a path under the cache, such as bin/pulumi) is there.
current() {
    local recipe=$1 stamp=$2 binary; shift 2
    [ "$(cat "$cache/stamps/$recipe" 2>/dev/null)" = "$stamp" ] || return 1
    for binary in "$@"; do [ -x "$cache/$binary" ] || return 1; done
}

# built RECIPE STAMP STARTED: record the stamp and report how long the recipe took.
built() {
    echo "$2" > "$cache/stamps/$1"
    echo "toolchain: built $1 in $(( $(date +%s) - $3 )) s" >&2
}

# fresh_copy DIR [NAME]: a clean copy of toolchain/DIR as the recipe's work folder $work (named
# NAME, default DIR, under the build folder).
fresh_copy() {
    work=$cache/build/${2:-$1}
    rm -rf "$work" && mkdir -p "$(dirname "$work")" && cp -r "$toolchain_dir/$1" "$work"
}

# module_dir MODULE@VERSION: where the Go module cache holds a module (downloaded if needed).
module_dir() {
    (cd "$work" && go mod download -json "$1") | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'
}

command -v go >/dev/null || { echo "toolchain: Go is required to build the engine" >&2; exit 1; }
