# Sourced with stack names: `source scripts/passphrase.sh STACK...`. Decides, for each stack by
# itself, what its secrets open with, and exports it as PULUMI_CONFIG_PASSPHRASE_<STACK> or
# PULUMI_CONFIG_PASSPHRASE_FILE_<STACK> (<STACK>: the name upper-cased, any other character as _):
#   1. PULUMI_CONFIG_PASSPHRASE_<STACK> or PULUMI_CONFIG_PASSPHRASE_FILE_<STACK>, when not empty;
#   2. else PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, when not empty;
#   3. else, for dev and sandbox-* alone, the published sandbox passphrase;
#   4. else nothing, when the stack's file names a KMS or Vault secrets provider;
#   5. else one line on stderr saying how to set one, and a non-zero return (nothing changed).
# Then PULUMI_CONFIG_PASSPHRASE(_FILE) is the stack's own when one stack was given (for the CLI),
# and unset when several were (report/prPreview.ts and promote/promote.ts give each its own).
pgr_stack_var() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]' | tr -c 'A-Z0-9' '_'; }

pgr_passphrases() {
  local project=${PGR_PROJECT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
  local stack key own own_file provider i phrases=() files=()
  [ $# -gt 0 ] || {
    echo "usage: source scripts/passphrase.sh STACK..." >&2
    return 2
  }
  for stack in "$@"; do
    key=$(pgr_stack_var "$stack")
    own=PULUMI_CONFIG_PASSPHRASE_$key
    own_file=PULUMI_CONFIG_PASSPHRASE_FILE_$key
    if [ -n "${!own:-}" ]; then
      phrases+=("${!own}") files+=("")
    elif [ -n "${!own_file:-}" ]; then
      phrases+=("") files+=("${!own_file}")
    elif [ -n "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
      phrases+=("$PULUMI_CONFIG_PASSPHRASE") files+=("")
    elif [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
      phrases+=("") files+=("$PULUMI_CONFIG_PASSPHRASE_FILE")
    elif [ "$stack" = dev ] || [[ $stack == sandbox-* ]]; then
      phrases+=("pg-replication-sandbox") files+=("")
    else
      provider=$(sed -n 's/^secretsprovider: *//p' "$project/Pulumi.$stack.yaml" 2>/dev/null || true)
      case $provider in
        awskms://* | azurekeyvault://* | gcpkms://* | hashivault://*) phrases+=("") files+=("") ;;
        *)
          echo "stack $stack: set $own or PULUMI_CONFIG_PASSPHRASE (or their _FILE), or give it a KMS/Vault secrets provider: pulumi stack change-secrets-provider --stack $stack \"awskms://alias/...\" (README: Secrets)" >&2
          return 1
          ;;
      esac
    fi
  done
  unset PULUMI_CONFIG_PASSPHRASE PULUMI_CONFIG_PASSPHRASE_FILE
  for i in "${!phrases[@]}"; do
    key=$(pgr_stack_var "${@:i+1:1}")
    unset "PULUMI_CONFIG_PASSPHRASE_$key" "PULUMI_CONFIG_PASSPHRASE_FILE_$key"
    [ -z "${phrases[i]}" ] || export "PULUMI_CONFIG_PASSPHRASE_$key=${phrases[i]}"
    [ -z "${files[i]}" ] || export "PULUMI_CONFIG_PASSPHRASE_FILE_$key=${files[i]}"
  done
  if [ $# -eq 1 ]; then
    [ -z "${phrases[0]}" ] || export PULUMI_CONFIG_PASSPHRASE="${phrases[0]}"
    [ -z "${files[0]}" ] || export PULUMI_CONFIG_PASSPHRASE_FILE="${files[0]}"
  fi
}

pgr_passphrases "$@"
