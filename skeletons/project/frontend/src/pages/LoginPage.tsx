import { useId, useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { Field } from '@/components/Field';
import { useAuth } from '@/hooks/useAuth';
import { formSummary, toAPIError } from '@/services/api/errors';
import type { LoginRequest } from '@/types';
import { LoginRequestSchema } from '@/types/auth.zod';
import { issuesToFieldErrors } from '@/utils/forms';
import { retryText } from '@/utils/messages';

const LABELS: Record<string, string> = { email: 'Email', password: 'Password' };
const FIELDS = Object.keys(LABELS);

/** Where to go after signing in: the protected page that sent us here, or the items list. */
export function redirectTarget(state: unknown): string {
  const from = (state as { from?: unknown } | null)?.from;
  return typeof from === 'string' && from.startsWith('/') && !from.startsWith('//') ? from : '/items';
}

export function LoginPage() {
  const { login, isAuthenticated } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const uid = useId();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  if (isAuthenticated) return <Navigate to={redirectTarget(location.state)} replace />;

  const handleSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const credentials: LoginRequest = { email: email.trim(), password };
    const parsed = LoginRequestSchema.safeParse(credentials, { reportInput: true });
    const errors = parsed.success ? {} : issuesToFieldErrors(parsed.error.issues, LABELS);
    setFieldErrors(errors);
    setError(null);
    if (Object.keys(errors).length > 0) return;

    setSubmitting(true);
    try {
      await login(credentials);
      navigate(redirectTarget(location.state), { replace: true });
    } catch (err) {
      const apiError = toAPIError(err);
      setSubmitting(false);
      setFieldErrors(apiError.fieldErrors(LABELS));
      if (apiError.code === 'UNAUTHORIZED') setError('Wrong email or password.');
      else if (apiError.code === 'RATE_LIMITED')
        setError(`Too many failed sign-in attempts. Try again ${retryText(apiError.retryAfter ?? 60)}.`);
      else setError(formSummary(apiError, FIELDS));
    }
  };

  return (
    <section className="auth-page">
      <h1>Sign in</h1>
      <form className="card" onSubmit={handleSubmit} data-testid="login-form" noValidate aria-label="Sign in">
        <Field id={`${uid}-email`} label={LABELS.email!} error={fieldErrors.email} testId="login-email">
          {(input) => (
            <input
              {...input}
              type="email"
              name="email"
              autoComplete="email"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              data-testid="login-email"
            />
          )}
        </Field>
        <Field id={`${uid}-password`} label={LABELS.password!} error={fieldErrors.password} testId="login-password">
          {(input) => (
            <input
              {...input}
              type="password"
              name="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              data-testid="login-password"
            />
          )}
        </Field>
        <button type="submit" disabled={submitting} data-testid="login-submit">
          {submitting ? 'Signing in…' : 'Sign in'}
        </button>
        <p role="alert" className="form-error" data-testid="login-error" hidden={!error}>
          {error}
        </p>
      </form>
      <p className="auth-switch">
        No account yet?{' '}
        <Link to="/register" state={location.state}>
          Create one
        </Link>
      </p>
    </section>
  );
}
