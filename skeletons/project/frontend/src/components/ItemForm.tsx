import { useState, type FormEvent } from 'react';
import { describeError, toAPIError } from '@/services/api/errors';
import type { ItemCreateInput, ItemResponse, ItemStatus, ItemUpdateInput } from '@/types';
import { ItemCreateInputSchema, ItemStatusSchema, ItemUpdateInputSchema } from '@/types/items.zod';
import { issuesToFieldErrors } from '@/utils/forms';

export interface ItemFormValues {
  title: string;
  description: string | null;
  /** Sent as a string: the backend's Decimal keeps it exact (no float rounding). */
  price: string;
  status: ItemStatus;
}

type ItemFormProps = { testId: string; onCancel?: () => void } & (
  | { item?: undefined; onSubmit: (input: ItemCreateInput) => Promise<unknown> }
  | { item: ItemResponse; onSubmit: (input: ItemUpdateInput) => Promise<unknown> }
);

const STATUSES = ItemStatusSchema.options;

export function ItemForm(props: ItemFormProps) {
  const { item, onCancel, testId } = props;
  const [title, setTitle] = useState(item?.title ?? '');
  const [description, setDescription] = useState(item?.description ?? '');
  const [price, setPrice] = useState(item?.price ?? '');
  const [status, setStatus] = useState<ItemStatus>(item?.status ?? 'draft');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

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
    const parsed = item ? ItemUpdateInputSchema.safeParse(changes) : ItemCreateInputSchema.safeParse(values);
    const errors = parsed.success ? {} : issuesToFieldErrors(parsed.error.issues);
    // Friendlier than the schema's default messages for the common case.
    if (values.title === '' && (!item || 'title' in changes)) errors.title = 'Title is required';
    if (values.price === '' && (!item || 'price' in changes)) errors.price = 'Price is required';
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
      const apiError = toAPIError(error);
      setFieldErrors(apiError.fieldErrors);
      setFormError(describeError(apiError));
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form className="item-form" onSubmit={handleSubmit} data-testid={testId} noValidate>
      <label>
        Title
        <input
          name="title"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          maxLength={200}
          aria-invalid={Boolean(fieldErrors.title)}
          data-testid={`${testId}-title`}
        />
        {fieldErrors.title && <span className="field-error">{fieldErrors.title}</span>}
      </label>
      <label>
        Description
        <input
          name="description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          data-testid={`${testId}-description`}
        />
        {fieldErrors.description && <span className="field-error">{fieldErrors.description}</span>}
      </label>
      <label>
        Price
        <input
          name="price"
          inputMode="decimal"
          value={price}
          onChange={(e) => setPrice(e.target.value)}
          placeholder="0.00"
          aria-invalid={Boolean(fieldErrors.price)}
          data-testid={`${testId}-price`}
        />
        {fieldErrors.price && <span className="field-error">{fieldErrors.price}</span>}
      </label>
      <label>
        Status
        <select
          name="status"
          value={status}
          onChange={(e) => setStatus(e.target.value as ItemStatus)}
          data-testid={`${testId}-status`}
        >
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <div className="form-actions">
        <button type="submit" disabled={submitting} data-testid={`${testId}-submit`}>
          {item ? 'Save' : 'Add item'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel} className="secondary" data-testid={`${testId}-cancel`}>
            Cancel
          </button>
        )}
      </div>
      {formError && (
        <p role="alert" className="form-error" data-testid={`${testId}-error`}>
          {formError}
        </p>
      )}
    </form>
  );
}
