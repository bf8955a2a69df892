# Sourced by every script: the project's own Node (>= 22, from the npm registry), the Pulumi CLI
# and the YAML language host built into the cache, and Pulumi fully offline (file backend, passphrase secrets, no update
# checks, no plugin downloads).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PULUMI_VERSION=v3.274.1
export PST_CACHE="${PST_CACHE:-/var/cache/pulumi-shared-tunnel}"
export PST_PULUMI_BIN="$PST_CACHE/pulumi-$PULUMI_VERSION/bin"
export PULUMI_YAML_VERSION=v1.25.0
export PST_YAML_BIN="$PST_CACHE/pulumi-language-yaml-$PULUMI_YAML_VERSION/bin"
export PATH="$ROOT/node_modules/.bin:$PST_PULUMI_BIN:$PST_YAML_BIN:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_HOME="${PULUMI_HOME:-$ROOT/.pulumi/home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$ROOT/.pulumi/backend}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-demo-only-passphrase}"
