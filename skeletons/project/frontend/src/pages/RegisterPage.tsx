import { useId, useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { Field } from '@/components/Field';
import { useAuth } from '@/hooks/useAuth';
import { formSummary, toAPIError } from '@/services/api/errors';
import type { RegisterRequest } from '@/types';
import { RegisterRequestSchema } from '@/types/auth.zod';
import { issuesToFieldErrors, minLengthOf } from '@/utils/forms';
import { redirectTarget } from './LoginPage';

const LABELS: Record<string, string> = { email: 'Email', display_name: 'Display name', password: 'Password' };
const FIELDS = Object.keys(LABELS);
// The password rule the DTO declares (min_length), shown before anyone gets it wrong.
const PASSWORD_MIN = minLengthOf((RegisterRequestSchema as unknown as { shape?: Record<string, unknown> }).shape?.password);

export function RegisterPage() {
  const { register, isAuthenticated } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const uid = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  if (isAuthenticated) return <Navigate to={redirectTarget(location.state)} replace />;

  const handleSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const input: RegisterRequest = {
      email: email.trim(),
      password,
      display_name: displayName.trim() === '' ? null : displayName.trim(),
    };
    const parsed = RegisterRequestSchema.safeParse(input, { reportInput: true });
    const errors = parsed.success ? {} : issuesToFieldErrors(parsed.error.issues, LABELS);
    setFieldErrors(errors);
    setError(null);
    if (Object.keys(errors).length > 0) return;

    setSubmitting(true);
    try {
      await register(input);
      navigate(redirectTarget(location.state), { replace: true });
    } catch (err) {
      const apiError = toAPIError(err);
      setSubmitting(false);
      if (apiError.code === 'CONFLICT') {
        setFieldErrors({ email: 'An account with this email already exists. Sign in instead.' });
        setError(null);
        return;
      }
      setFieldErrors(Object.fromEntries(Object.entries(apiError.fieldErrors(LABELS)).filter(([key]) => FIELDS.includes(key))));
      setError(formSummary(apiError, FIELDS));
    }
  };

  return (
    <section className="auth-page">
      <h1>Create an account</h1>
      <form className="card" onSubmit={handleSubmit} data-testid="register-form" noValidate aria-label="Create an account">
        <Field id={`${uid}-email`} label={LABELS.email!} error={fieldErrors.email} testId="register-email">
          {(input) => (
            <input
              {...input}
              type="email"
              name="email"
              autoComplete="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              data-testid="register-email"
            />
          )}
        </Field>
        <Field id={`${uid}-display-name`} label="Display name (optional)" error={fieldErrors.display_name} testId="register-display-name">
          {(input) => (
            <input
              {...input}
              name="display_name"
              autoComplete="nickname"
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
              data-testid="register-display-name"
            />
          )}
        </Field>
        <Field id={`${uid}-password`} label={PASSWORD_MIN ? `Password (at least ${PASSWORD_MIN} characters)` : 'Password'} error={fieldErrors.password} testId="register-password">
          {(input) => (
            <input
              {...input}
              type="password"
              name="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              data-testid="register-password"
            />
          )}
        </Field>
        <button type="submit" disabled={submitting} data-testid="register-submit">
          {submitting ? 'Creating…' : 'Create account'}
        </button>
        <p role="alert" className="form-error" data-testid="register-error" hidden={!error}>
          {error}
        </p>
      </form>
      <p className="auth-switch">
        Already registered?{' '}
        <Link to="/login" state={location.state}>
          Sign in
        </Link>
      </p>
    </section>
  );
}
