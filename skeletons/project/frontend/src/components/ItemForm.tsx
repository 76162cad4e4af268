import { useId, useState, type FormEvent, type Ref } from 'react';
import { Field } from '@/components/Field';
import { formSummary, toAPIError } from '@/services/api/errors';
import type { ItemCreateInput, ItemResponse, ItemStatus, ItemUpdateInput } from '@/types';
import { ItemCreateInputSchema, ItemStatusSchema, ItemUpdateInputSchema } from '@/types/items.zod';
import { issuesToFieldErrors, maxLengthOf } from '@/utils/forms';

export interface ItemFormValues {
  title: string;
  description: string | null;
  /** Sent as a string: the backend's Decimal keeps it exact (no float rounding). */
  price: string;
  status: ItemStatus;
}

type ItemFormProps = { testId: string; onCancel?: () => void; titleRef?: Ref<HTMLInputElement> } & (
  | { item?: undefined; onSubmit: (input: ItemCreateInput) => Promise<unknown> }
  | { item: ItemResponse; onSubmit: (input: ItemUpdateInput) => Promise<unknown> }
);

const STATUSES = ItemStatusSchema.options;
const LABELS: Record<string, string> = { title: 'Title', description: 'Description', price: 'Price', status: 'Status' };
const FIELDS = Object.keys(LABELS);
const STATUS_LABELS: Record<string, string> = { draft: 'Draft', active: 'Active', archived: 'Archived' };

// The limits the person can see coming, read from the generated schema (the DTO's max_length).
const shape = (ItemCreateInputSchema as unknown as { shape?: Record<string, unknown> }).shape ?? {};
const TITLE_MAX = maxLengthOf(shape.title);
const DESCRIPTION_MAX = maxLengthOf(shape.description);

export function ItemForm(props: ItemFormProps) {
  const { item, onCancel, testId, titleRef } = props;
  const uid = useId();
  const [title, setTitle] = useState(item?.title ?? '');
  const [description, setDescription] = useState(item?.description ?? '');
  const [price, setPrice] = useState(item?.price ?? '');
  const [status, setStatus] = useState<ItemStatus>(item?.status ?? 'draft');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  // Past a limit, say so while typing (the box does not silently stop).
  const overLimit = (value: string, max: number | null) => (max !== null && value.length > max ? `Use at most ${max} characters.` : undefined);
  const titleError = fieldErrors.title ?? overLimit(title, TITLE_MAX);
  const descriptionError = fieldErrors.description ?? overLimit(description, DESCRIPTION_MAX);

  const clearError = (field: string) =>
    setFieldErrors((prev) => {
      if (!(field in prev)) return prev;
      const next = { ...prev };
      delete next[field];
      return next;
    });

  const handleSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const values: ItemFormValues = {
      title: title.trim(),
      description: description.trim() === '' ? null : description.trim(),
      price: price.trim(),
      status,
    };
    // Create sends everything; edit sends only what changed (PATCH semantics).
    const changes: ItemUpdateInput = {};
    if (item) {
      if (values.title !== item.title) changes.title = values.title;
      if (values.description !== item.description) changes.description = values.description;
      if (values.price !== item.price) changes.price = values.price;
      if (values.status !== item.status) changes.status = values.status;
    }
    // The client rules are the generated schema's (the DTO's constraints), in plain words.
    const parsed = item
      ? ItemUpdateInputSchema.safeParse(changes, { reportInput: true })
      : ItemCreateInputSchema.safeParse(values, { reportInput: true });
    const errors = parsed.success ? {} : issuesToFieldErrors(parsed.error.issues, LABELS);
    setFieldErrors(errors);
    setFormError(null);
    if (Object.keys(errors).length > 0) return;

    setSubmitting(true);
    try {
      if (props.item) {
        await props.onSubmit(changes);
      } else {
        await props.onSubmit(values);
        setTitle('');
        setDescription('');
        setPrice('');
        setStatus('draft');
      }
    } catch (error) {
      // Field problems go beside their fields; a summary only for what no field can carry.
      const apiError = toAPIError(error);
      const serverFields = apiError.fieldErrors(LABELS);
      setFieldErrors(Object.fromEntries(Object.entries(serverFields).filter(([key]) => FIELDS.includes(key))));
      setFormError(formSummary(apiError, FIELDS));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form className="item-form card" onSubmit={handleSubmit} data-testid={testId} noValidate aria-label={item ? `Edit ${item.title}` : 'New item'}>
      <Field
        id={`${uid}-title`}
        label={LABELS.title!}
        error={titleError}
        counter={TITLE_MAX === null ? null : { length: title.length, max: TITLE_MAX }}
        testId={`${testId}-title`}
        className="field-title"
      >
        {(input) => (
          <input
            {...input}
            ref={titleRef}
            name="title"
            value={title}
            onChange={(e) => {
              setTitle(e.target.value);
              clearError('title');
            }}
            autoComplete="off"
            data-testid={`${testId}-title`}
          />
        )}
      </Field>
      <Field id={`${uid}-price`} label={LABELS.price!} error={fieldErrors.price} testId={`${testId}-price`} className="field-price">
        {(input) => (
          <input
            {...input}
            name="price"
            inputMode="decimal"
            value={price}
            onChange={(e) => {
              setPrice(e.target.value);
              clearError('price');
            }}
            placeholder="0.00"
            autoComplete="off"
            data-testid={`${testId}-price`}
          />
        )}
      </Field>
      <Field id={`${uid}-status`} label={LABELS.status!} error={fieldErrors.status} testId={`${testId}-status`} className="field-status">
        {(input) => (
          <select {...input} name="status" value={status} onChange={(e) => setStatus(e.target.value as ItemStatus)} data-testid={`${testId}-status`}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s] ?? s}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        id={`${uid}-description`}
        label={`${LABELS.description!} (optional)`}
        error={descriptionError}
        counter={DESCRIPTION_MAX !== null && description.length > DESCRIPTION_MAX * 0.8 ? { length: description.length, max: DESCRIPTION_MAX } : null}
        testId={`${testId}-description`}
        className="field-description"
      >
        {(input) => (
          <input
            {...input}
            name="description"
            value={description}
            onChange={(e) => {
              setDescription(e.target.value);
              clearError('description');
            }}
            autoComplete="off"
            data-testid={`${testId}-description`}
          />
        )}
      </Field>
      <div className="form-actions">
        <button type="submit" disabled={submitting} data-testid={`${testId}-submit`}>
          {item ? (submitting ? 'Saving…' : 'Save') : submitting ? 'Adding…' : 'Add item'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel} className="secondary" data-testid={`${testId}-cancel`}>
            Cancel
          </button>
        )}
      </div>
      <p role="alert" className="form-error" data-testid={`${testId}-error`} hidden={!formError}>
        {formError}
      </p>
    </form>
  );
}
