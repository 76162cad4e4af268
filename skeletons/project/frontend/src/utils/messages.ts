/**
 * Every message a person can see, as a plain sentence.
 *
 * The generated Zod schemas and the backend (Pydantic) describe a problem for developers:
 * "Invalid string: must match pattern /^[^@\s]+@…/", "String should have at most 200 characters".
 * This module turns both into sentences ("Enter an email address like name@example.com.",
 * "Use at most 200 characters.") and never shows a regular expression or a type name.
 */

/** A hint for a field whose format a pattern checks: what to type, not the pattern. */
const FORMAT_HINTS: Record<string, string> = {
  email: 'Enter an email address like name@example.com.',
  price: 'Enter an amount like 19.90.',
};

/** "display_name" → "Display name". */
export function humanize(field: string): string {
  const words = field.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words === '' ? 'This field' : words.charAt(0).toUpperCase() + words.slice(1);
}

/** End a text with a full stop (unless it ends with one already). */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/** Text a person may read as is: no regex, no type or code names. */
function readable(text: string): boolean {
  return (
    text.length > 0 &&
    text.length <= 200 &&
    !/[\\^$]|\/.*\/|\bexpected\b|\binput\b|\bstring\b|\bregex\b|\bpattern\b|\bundefined\b|\bnull\b|\bNaN\b/i.test(text)
  );
}

function formatHint(field: string, label: string): string {
  return FORMAT_HINTS[field] ?? `Check the format of ${label.toLowerCase()}.`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function numberText(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return String(value);
  return String(value ?? '');
}

/** The parts of a Zod 4 issue (`error.issues[i]`) this module reads. */
export interface ZodIssueLike {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
  origin?: string;
  format?: string;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: boolean;
  expected?: string;
  input?: unknown;
  divisor?: unknown;
  values?: readonly unknown[];
  errors?: readonly (readonly ZodIssueLike[])[];
}

/** A plain sentence for one Zod issue on `field` (labelled `label` in the form). */
export function zodIssueMessage(issue: ZodIssueLike, field: string, label = humanize(field)): string {
  // Nothing typed (parse with `reportInput: true` so that the issue carries the value).
  if (issue.input === '' || (issue.input === undefined && issue.code === 'invalid_type')) return `${label} is required.`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined || issue.input === null || issue.input === '') return `${label} is required.`;
      if (issue.expected === 'number' || issue.expected === 'int') return 'Enter a number.';
      return `Check ${label.toLowerCase()}.`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'string') {
        if (min <= 1) return `${label} is required.`;
        return `Use at least ${plural(min, 'character')}.`;
      }
      if (issue.origin === 'array' || issue.origin === 'set') return `Choose at least ${numberText(issue.minimum)}.`;
      return issue.inclusive === false
        ? `Enter an amount more than ${numberText(issue.minimum)}.`
        : `Enter ${numberText(issue.minimum)} or more.`;
    }
    case 'too_big': {
      if (issue.origin === 'string') return `Use at most ${plural(Number(issue.maximum), 'character')}.`;
      if (issue.origin === 'array' || issue.origin === 'set') return `Choose at most ${numberText(issue.maximum)}.`;
      return issue.inclusive === false
        ? `Enter an amount less than ${numberText(issue.maximum)}.`
        : `Enter ${numberText(issue.maximum)} or less.`;
    }
    case 'not_multiple_of':
      return `Enter a multiple of ${numberText(issue.divisor)}.`;
    case 'invalid_format':
      if (issue.format === 'email') return FORMAT_HINTS.email!;
      return formatHint(field, label);
    case 'invalid_value':
    case 'invalid_enum_value':
      return 'Choose one of the options.';
    case 'invalid_union': {
      // A union such as `number | decimal string`: report the branch the value was meant for
      // (the one that did not fail on its type), else the format hint.
      const branches = issue.errors ?? [];
      const meant = branches.find((branch) => branch.length > 0 && branch.every((i) => i.code !== 'invalid_type'));
      const first = meant?.[0];
      if (first) return zodIssueMessage(first, field, label);
      if (issue.input === undefined || issue.input === null) return `${label} is required.`;
      return formatHint(field, label);
    }
    default:
      // `custom` and future codes: a readable message (a refinement may carry one) or the hint.
      return readable(issue.message) ? sentence(issue.message) : formatHint(field, label);
  }
}

/** One entry of `details.fields` in the backend's VALIDATION_ERROR. */
export interface FieldIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

function firstNumber(text: string): string | null {
  return /-?\d+(?:\.\d+)?/.exec(text)?.[0] ?? null;
}

/**
 * A plain sentence for one issue of the backend (Pydantic error types; the limits are read
 * from its message, which Pydantic words in a stable way: "…at most 200 characters").
 */
export function serverIssueMessage(issue: FieldIssue, label: string): string {
  const field = String(issue.loc.at(-1) ?? '');
  const n = firstNumber(issue.msg ?? '');
  switch (issue.type) {
    case 'missing':
      return `${label} is required.`;
    case 'string_too_short':
      return n === null || Number(n) <= 1 ? `${label} is required.` : `Use at least ${plural(Number(n), 'character')}.`;
    case 'string_too_long':
      return n === null ? 'This is too long.' : `Use at most ${plural(Number(n), 'character')}.`;
    case 'string_pattern_mismatch':
      return formatHint(field, label);
    case 'greater_than_equal':
      return n === null ? 'Enter a larger amount.' : `Enter ${n} or more.`;
    case 'greater_than':
      return n === null ? 'Enter a larger amount.' : `Enter an amount more than ${n}.`;
    case 'less_than_equal':
      return n === null ? 'Enter a smaller amount.' : `Enter ${n} or less.`;
    case 'less_than':
      return n === null ? 'Enter a smaller amount.' : `Enter an amount less than ${n}.`;
    case 'decimal_max_digits':
      return n === null ? 'Use fewer digits.' : `Use at most ${plural(Number(n), 'digit')} in total.`;
    case 'decimal_max_places':
      return n === null ? 'Use fewer decimal places.' : `Use at most ${plural(Number(n), 'decimal place')}.`;
    case 'decimal_whole_digits':
      return n === null ? 'Use fewer digits.' : `Use at most ${plural(Number(n), 'digit')} before the decimal point.`;
    case 'decimal_parsing':
    case 'decimal_type':
    case 'float_parsing':
    case 'int_parsing':
    case 'float_type':
    case 'int_type':
      return FORMAT_HINTS[field] ?? 'Enter a number.';
    case 'enum':
    case 'literal_error':
      return 'Choose one of the options.';
    case 'email_characters':
      return 'The email address contains an invisible or control character; type it again.';
    case 'string_type':
    case 'model_type':
    case 'json_invalid':
    case 'json_too_deep':
    case 'int_too_large':
      return 'The form sent something the server cannot read; reload the page and try again.';
    default:
      // The server's own sentences (a weak password, …) read well as they are.
      // pydantic prefixes a validator's own message ("Value error, …", "Assertion failed, …").
      const own = (issue.msg ?? '').replace(/^(Value error|Assertion failed), /, '');
      return readable(own) ? sentence(own) : `Check ${label.toLowerCase()}.`;
  }
}

/**
 * "in 5 minutes (at 14:35)" for a wait of `seconds` from `now`. Under a minute: "in 40 seconds".
 */
export function retryText(seconds: number, now: Date = new Date()): string {
  const wait = Math.max(1, Math.ceil(seconds));
  const at = new Date(now.getTime() + wait * 1000);
  const clock = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (wait < 60) return `in ${plural(wait, 'second')}`;
  const minutes = Math.ceil(wait / 60);
  return `in ${plural(minutes, 'minute')} (at ${clock})`;
}
