import { humanize, zodIssueMessage, type ZodIssueLike } from '@/utils/messages';

export type { ZodIssueLike as IssueLike } from '@/utils/messages';

/**
 * First problem per top-level field, as a plain sentence to show beside its input (`_form`
 * for an issue on the whole object). `labels` names the fields as the form shows them.
 */
export function issuesToFieldErrors(
  issues: readonly ZodIssueLike[],
  labels: Record<string, string> = {},
): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : '_form';
    errors[key] ??= zodIssueMessage(issue, key, labels[key] ?? humanize(key));
  }
  return errors;
}

/** The `maxLength` a generated Zod string schema declares (`z.string().max(n)`), if any. */
export function maxLengthOf(schema: unknown): number | null {
  return lengthLimit(schema, 'maxLength');
}

/** The `minLength` a generated Zod string schema declares (`z.string().min(n)`), if any. */
export function minLengthOf(schema: unknown): number | null {
  return lengthLimit(schema, 'minLength');
}

function lengthLimit(schema: unknown, key: 'maxLength' | 'minLength'): number | null {
  let current: unknown = schema;
  // Unwrap .optional() / .nullable() / unions with null (`z.union([z.string().max(5), z.null()])`).
  for (let depth = 0; depth < 5 && current; depth++) {
    const s = current as { maxLength?: unknown; minLength?: unknown; unwrap?: () => unknown; options?: readonly unknown[] };
    if (typeof s[key] === 'number') return s[key];
    if (Array.isArray(s.options)) {
      const found = s.options.map((option) => lengthLimit(option, key)).find((n) => n !== null);
      return found ?? null;
    }
    if (typeof s.unwrap === 'function') current = s.unwrap();
    else break;
  }
  return null;
}
