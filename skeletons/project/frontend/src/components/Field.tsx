import type { ReactNode } from 'react';

/** What a Field hands to its input: the id its label points at, and the ARIA links. */
export interface FieldInputProps {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby': string;
}

interface FieldProps {
  id: string;
  label: string;
  /** The problem with the value, as a sentence; the space for it is always reserved. */
  error?: string | undefined;
  /** A `length / max` counter under the input (a limit the person can see coming). */
  counter?: { length: number; max: number } | null;
  /** Base data-testid: the error line is `<testId>-error`, the counter `<testId>-counter`. */
  testId?: string;
  className?: string;
  children: (input: FieldInputProps) => ReactNode;
}

/**
 * A labelled input with its error line and optional counter. The error line is always in the
 * layout (empty when there is no error) so that an error appearing does not move the form.
 */
export function Field({ id, label, error, counter, testId, className, children }: FieldProps) {
  const errorId = `${id}-error`;
  const counterId = `${id}-counter`;
  const over = counter ? counter.length > counter.max : false;
  return (
    <div className={['field', className].filter(Boolean).join(' ')}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        'aria-invalid': Boolean(error),
        'aria-describedby': counter ? `${errorId} ${counterId}` : errorId,
      })}
      <div className="field-foot">
        <p id={errorId} className="field-error" data-testid={testId && `${testId}-error`}>
          {error}
        </p>
        {counter && (
          <span id={counterId} className={over ? 'counter over' : 'counter'} data-testid={testId && `${testId}-counter`}>
            <span className="sr-only">Characters used: </span>
            {counter.length}/{counter.max}
          </span>
        )}
      </div>
    </div>
  );
}
