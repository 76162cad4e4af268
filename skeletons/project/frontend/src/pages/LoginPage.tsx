import { useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { useAuth } from '@/hooks/useAuth';
import { toAPIError } from '@/services/api/errors';
import type { LoginRequest } from '@/types';
import { LoginRequestSchema } from '@/types/auth.zod';
import { issuesToFieldErrors } from '@/utils/forms';

/** Where to go after signing in: the protected page that sent us here, or the items list. */
export function redirectTarget(state: unknown): string {
  const from = (state as { from?: unknown } | null)?.from;
  return typeof from === 'string' && from.startsWith('/') && !from.startsWith('//') ? from : '/items';
}

export function LoginPage() {
  const { login, isAuthenticated } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  if (isAuthenticated) return <Navigate to={redirectTarget(location.state)} replace />;

  const handleSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const credentials: LoginRequest = { email: email.trim(), password };
    const parsed = LoginRequestSchema.safeParse(credentials);
    const errors = parsed.success ? {} : issuesToFieldErrors(parsed.error.issues);
    if (!credentials.email) errors.email = 'Email is required';
    if (!credentials.password) errors.password = 'Password is required';
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
      setFieldErrors(apiError.fieldErrors);
      setError(apiError.code === 'UNAUTHORIZED' ? 'Wrong email or password.' : apiError.message);
    }
  };

  return (
    <section className="auth-page">
      <h1>Sign in</h1>
      <form onSubmit={handleSubmit} data-testid="login-form" noValidate>
        <label>
          Email
          <input
            type="email"
            name="email"
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            data-testid="login-email"
          />
          {fieldErrors.email && <span className="field-error">{fieldErrors.email}</span>}
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="login-password"
          />
          {fieldErrors.password && <span className="field-error">{fieldErrors.password}</span>}
        </label>
        <button type="submit" disabled={submitting} data-testid="login-submit">
          {submitting ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p role="alert" className="form-error" data-testid="login-error">
            {error}
          </p>
        )}
      </form>
      <p>
        No account yet? <Link to="/register" state={location.state}>Create one</Link>
      </p>
    </section>
  );
}
