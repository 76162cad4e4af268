/** The part of a Zod issue we use (zod 4 `error.issues`). */
export interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
}

/** First message per top-level field, for showing next to inputs. */
export function issuesToFieldErrors(issues: readonly IssueLike[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const key = issue.path.length > 0 ? String(issue.path[0]) : '_form';
    errors[key] ??= issue.message;
  }
  return errors;
}
