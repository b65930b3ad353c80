/** The text with every occurrence of each secret (not only the first) shown as [secret]. */
export function redact(text: string, ...secrets: (string | undefined)[]): string {
  return secrets.filter((s): s is string => !!s).reduce((t, s) => t.split(s).join("[secret]"), text);
}
