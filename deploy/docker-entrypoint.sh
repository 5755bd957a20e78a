#!/bin/sh
# Writes the container's settings into the engine's home, then runs the command (bitdust run).
#
# Options are files under $BITDUST_HOME/config/<key> (what `bitdust config set` writes), so they can
# be set before the engine's first start:
#   BITDUST_NETWORK_CONFIG  path of the mounted network config -> services/network/network-config
#   BITDUST_CONFIG          more options, one "key=value" per line (a role's settings in compose.yaml)
# The engine validates every value when it loads them.
set -eu

home="${BITDUST_HOME:?BITDUST_HOME is not set}"

set_option() {
    case "$1" in
        "" | /* | *..* | *[!a-z0-9/_-]*)
            echo "bitdust-entrypoint: bad option key '$1'" >&2
            exit 2
            ;;
    esac
    mkdir -p "$home/config/$(dirname "$1")"
    printf '%s\n' "$2" > "$home/config/$1.tmp"
    mv "$home/config/$1.tmp" "$home/config/$1"
}

if [ -n "${BITDUST_NETWORK_CONFIG:-}" ]; then
    if [ -r "$BITDUST_NETWORK_CONFIG" ]; then
        set_option services/network/network-config "$BITDUST_NETWORK_CONFIG"
    else
        echo "bitdust-entrypoint: no network config at $BITDUST_NETWORK_CONFIG (mount one there);" \
            "using the home folder's metadata/networkconfig.json" >&2
    fi
fi

if [ -n "${BITDUST_CONFIG:-}" ]; then
    printf '%s\n' "$BITDUST_CONFIG" | while IFS= read -r line; do
        line="$(printf '%s' "$line" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')"
        [ -z "$line" ] && continue
        case "$line" in
            *=*) set_option "${line%%=*}" "${line#*=}" ;;
            *)
                echo "bitdust-entrypoint: BITDUST_CONFIG lines are key=value, got '$line'" >&2
                exit 2
                ;;
        esac
    done
fi

exec "$@"
