/** The first of the named variables that is set to something other than blanks, trimmed. */
export function envValue(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = env[name]?.trim();
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}
