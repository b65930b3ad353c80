// What each stack's workspace opens its secrets with, when one run (the report, a promotion)
// opens several stacks: the passphrase scripts/passphrase.sh decided for that stack
// (PULUMI_CONFIG_PASSPHRASE_<STACK> or PULUMI_CONFIG_PASSPHRASE_FILE_<STACK>), else the one given
// for every stack (PULUMI_CONFIG_PASSPHRASE or _FILE), else none. Never the sandbox passphrase:
// that fallback is scripts/passphrase.sh's alone.

/** The stack's part of its variables' names: upper-cased, any other character as `_`. */
export const stackVarSuffix = (stack: string): string => stack.toUpperCase().replace(/[^A-Z0-9]/g, "_");

/**
 * Takes the passphrase for every stack out of env, so that no Pulumi command inherits one meant
 * for another stack, and returns what each stack's workspace gets (LocalWorkspace's envVars).
 */
export function takeStackPassphrases(env: NodeJS.ProcessEnv = process.env): (stack: string) => Record<string, string> {
  const forEvery = { phrase: env.PULUMI_CONFIG_PASSPHRASE, file: env.PULUMI_CONFIG_PASSPHRASE_FILE };
  delete env.PULUMI_CONFIG_PASSPHRASE;
  delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
  return (stack): Record<string, string> => {
    const own = env[`PULUMI_CONFIG_PASSPHRASE_${stackVarSuffix(stack)}`];
    const ownFile = env[`PULUMI_CONFIG_PASSPHRASE_FILE_${stackVarSuffix(stack)}`];
    if (own) return { PULUMI_CONFIG_PASSPHRASE: own };
    if (ownFile) return { PULUMI_CONFIG_PASSPHRASE_FILE: ownFile };
    if (forEvery.phrase) return { PULUMI_CONFIG_PASSPHRASE: forEvery.phrase };
    if (forEvery.file) return { PULUMI_CONFIG_PASSPHRASE_FILE: forEvery.file };
    return {};
  };
}
