#!/usr/bin/env bash
# Installs the provider plugins that build.sh built into the Pulumi home the engine uses
# ($PULUMI_HOME, default ~/.pulumi), as `pulumi plugin install resource NAME VERSION --file`,
# at the versions pinned for their SDKs in requirements.txt. Installed plugins are what the
# engine looks for first; plugins it finds only on PATH make it warn on every run.
#
# Usage: toolchain/install-plugins.sh   (after toolchain/build.sh; does nothing when current)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

home=${PULUMI_HOME:-$HOME/.pulumi}
for name in tls kubernetes; do
    version=$(pinned "pulumi-$name")
    binary=$plugins/pulumi-resource-$name
    installed=$home/plugins/resource-$name-v$version/pulumi-resource-$name
    [ -x "$binary" ] || { echo "toolchain: $binary is not built (toolchain/build.sh)" >&2; exit 1; }
    if ! cmp -s "$binary" "$installed"; then
        PULUMI_SKIP_UPDATE_CHECK=true "$bin/pulumi" plugin install resource "$name" "$version" \
            --file "$binary" >&2
    fi
done
