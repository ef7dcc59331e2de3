#!/bin/sh
# Mosquitto's start in docker-compose.yml: (re)writes the services' accounts from .env into the
# password file, then runs the broker (the arguments). Machine accounts added to the same file
# with mosquitto_passwd (docs/production.md: "Broker accounts and ACL") are kept.
#   MOSQUITTO_AUTH_DIR  where the password file lives (default /mosquitto/auth, a volume)
set -eu

auth=${MOSQUITTO_AUTH_DIR:-/mosquitto/auth}
passwd="$auth/passwd"
umask 077
mkdir -p "$auth"
[ -f "$passwd" ] || : >"$passwd"

account() { # user name, the variable that holds its password
    eval "secret=\${$2:-}"
    if [ -z "$secret" ]; then
        echo "mosquitto: $2 is empty; set it in .env" >&2
        exit 1
    fi
    mosquitto_passwd -b "$passwd" "$1" "$secret"
}

account gateway MQTT_GATEWAY_PASSWORD
account tracker MQTT_TRACKER_PASSWORD
account sim MQTT_SIM_PASSWORD
# the healthcheck's own account: a new random password on each start, readable in here only
health=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
mosquitto_passwd -b "$passwd" healthcheck "$health"
printf '%s' "$health" >"$auth/healthcheck"
unset MQTT_GATEWAY_PASSWORD MQTT_TRACKER_PASSWORD MQTT_SIM_PASSWORD secret health
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
    chown -R mosquitto:mosquitto "$auth" # the broker reads it after dropping to that user
fi
# the image's own entrypoint (it sets the ownership of /mosquitto), where there is one
if [ -x /docker-entrypoint.sh ]; then
    exec /docker-entrypoint.sh "$@"
fi
exec "$@"
