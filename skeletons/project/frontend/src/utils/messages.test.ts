import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { APIError, describeError, formSummary } from '@/services/api/errors';
import { issuesToFieldErrors } from '@/utils/forms';
import { humanize, retryText, sentence, serverIssueMessage, zodIssueMessage } from './messages';

/** A sentence a person can read: a capital first, a full stop last, no regex or type talk. */
function expectSentence(text: string) {
  expect(text).toMatch(/^[A-Z“"]/);
  expect(text).toMatch(/[.!?]$/);
  expect(text).not.toMatch(/[\\^$]|\/.+\/|expected|Invalid|Too (big|small)|string|regex|pattern|undefined|NaN/);
}

function messages(schema: z.ZodType, value: unknown, labels: Record<string, string> = {}) {
  const parsed = schema.safeParse(value, { reportInput: true });
  expect(parsed.success).toBe(false);
  return issuesToFieldErrors(parsed.success ? [] : parsed.error.issues, labels);
}

const Register = z.object({
  email: z.string().min(3).max(254).regex(new RegExp('^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$')),
  password: z.string().min(8).max(128),
  display_name: z.union([z.string().max(100), z.null()]),
});
const Item = z.object({
  title: z.string().min(1).max(200),
  price: z.union([z.number().gte(0), z.string().regex(/^-?\d+(\.\d+)?$/)]),
  status: z.enum(['draft', 'active', 'archived']).optional(),
});

describe('Zod issues as sentences', () => {
  it('says what to type instead of showing the pattern', () => {
    const errors = messages(Register, { email: 'not-an-address', password: 'long enough', display_name: null });
    expect(errors.email).toBe('Enter an email address like name@example.com.');
    expectSentence(errors.email!);
  });

  it('names the limits in words', () => {
    const errors = messages(Register, { email: 'a@b.co', password: 'short', display_name: 'x'.repeat(101) });
    expect(errors.password).toBe('Use at least 8 characters.');
    expect(errors.display_name).toBe('Use at most 100 characters.');
    const item = messages(Item, { title: 'x'.repeat(201), price: '1' });
    expect(item.title).toBe('Use at most 200 characters.');
  });

  it('reports an empty required field with its label', () => {
    const errors = messages(Item, { title: '', price: '' }, { title: 'Title', price: 'Price' });
    expect(errors.title).toBe('Title is required.');
    expect(errors.price).toBe('Price is required.');
  });

  it('picks the branch of a union the value was meant for', () => {
    expect(messages(Item, { title: 'Lamp', price: 'cheap' }).price).toBe('Enter an amount like 19.90.');
    expect(messages(Item, { title: 'Lamp', price: -1 }).price).toBe('Enter 0 or more.');
  });

  it('never lets an unreadable message through', () => {
    const custom = zodIssueMessage({ code: 'custom', path: ['sku'], message: 'Invalid input: must match /^[A-Z]+$/' }, 'sku');
    expect(custom).toBe('Check the format of sku.');
    const readable = zodIssueMessage({ code: 'custom', path: ['price'], message: 'at most 2 decimal places' }, 'price');
    expect(readable).toBe('At most 2 decimal places.');
    for (const issue of [
      { code: 'invalid_type', path: ['n'], message: 'x', expected: 'number', input: 'abc' },
      { code: 'too_big', path: ['n'], message: 'x', origin: 'number', maximum: 10, inclusive: true },
      { code: 'too_small', path: ['n'], message: 'x', origin: 'number', minimum: 0, inclusive: false },
      { code: 'invalid_value', path: ['n'], message: 'x', values: ['a'] },
      { code: 'not_multiple_of', path: ['n'], message: 'x', divisor: 5 },
      { code: 'something_new', path: ['n'], message: 'Too big: expected string to have <=100 characters' },
    ]) {
      expectSentence(zodIssueMessage(issue, 'n'));
    }
  });
});

describe('server field issues as sentences', () => {
  const cases: [string, string, string][] = [
    ['string_too_long', 'String should have at most 200 characters', 'Use at most 200 characters.'],
    ['string_too_short', 'String should have at least 1 character', 'Title is required.'],
    ['greater_than_equal', 'Input should be greater than or equal to 0', 'Enter 0 or more.'],
    ['decimal_max_places', 'Decimal input should have no more than 2 decimal places', 'Use at most 2 decimal places.'],
    ['decimal_max_digits', 'Decimal input should have no more than 10 digits in total', 'Use at most 10 digits in total.'],
    ['decimal_whole_digits', 'Decimal input should have no more than 8 digits before the decimal point', 'Use at most 8 digits before the decimal point.'],
    ['string_pattern_mismatch', "String should match pattern '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'", 'Enter an email address like name@example.com.'],
    ['password_too_weak', 'This password is one of the most common ones; choose another', 'This password is one of the most common ones; choose another.'],
    ['value_error', 'Value error, may be omitted but not null', 'Check title.'],
    ['value_error', 'Value error, price must be a multiple of 0.05', 'Price must be a multiple of 0.05.'],
  ];
  it.each(cases)('%s', (type, msg, expected) => {
    const field = type === 'string_pattern_mismatch' ? 'email' : 'title';
    const text = serverIssueMessage({ loc: [field], msg, type }, humanize(field));
    expect(text).toBe(expected);
    expectSentence(text);
  });

  it('are keyed by field on APIError', () => {
    const error = new APIError('VALIDATION_ERROR', 'The request is invalid', 400, {
      fields: [{ loc: ['price'], msg: 'Decimal input should have no more than 2 decimal places', type: 'decimal_max_places' }],
    });
    expect(error.fieldErrors({ price: 'Price' })).toEqual({ price: 'Use at most 2 decimal places.' });
  });
});

describe('form summary', () => {
  const invalid = (loc: string[]) =>
    new APIError('VALIDATION_ERROR', 'The request is invalid', 400, { fields: [{ loc, msg: 'Field required', type: 'missing' }] });

  it('is empty when every problem has a field on the form', () => {
    expect(formSummary(invalid(['title']), ['title', 'price'])).toBeNull();
  });

  it('carries what no field on the form can show', () => {
    expect(formSummary(invalid(['body']), ['title'])).toBe('Body is required.');
    expect(formSummary(new APIError('VALIDATION_ERROR', 'The request body is not valid JSON', 400), ['title'])).toBe(
      'Some of the values were not accepted. Check them and try again.',
    );
  });
});

describe('describeError', () => {
  const now = new Date(2030, 0, 1, 14, 30, 0);

  it('says when to retry after a rate limit', () => {
    const error = new APIError('RATE_LIMITED', 'Too many failed logins; try again in 300 s', 429, { retry_after: 300 });
    const text = describeError(error, now);
    expect(text).toMatch(/^Too many attempts\. Try again in 5 minutes \(at .*35.*\)\.$/);
  });

  it('counts seconds under a minute', () => {
    expect(retryText(1, now)).toBe('in 1 second');
    expect(retryText(40, now)).toBe('in 40 seconds');
    expect(retryText(61, now)).toMatch(/^in 2 minutes \(at /);
  });

  it('speaks plainly for every code', () => {
    for (const code of ['NETWORK_ERROR', 'SERVICE_UNAVAILABLE', 'BAD_GATEWAY', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'INTERNAL_ERROR', 'HTTP_ERROR']) {
      expectSentence(describeError(new APIError(code, 'raw developer text', 500), now));
    }
    expect(describeError(new APIError('CONFLICT', 'An account with this e-mail already exists', 409))).toBe(
      'An account with this e-mail already exists.',
    );
  });
});

describe('helpers', () => {
  it('humanize and sentence', () => {
    expect(humanize('display_name')).toBe('Display name');
    expect(humanize('unitPrice')).toBe('Unit price');
    expect(sentence('at most 5')).toBe('At most 5.');
    expect(sentence('Done!')).toBe('Done!');
  });
});
