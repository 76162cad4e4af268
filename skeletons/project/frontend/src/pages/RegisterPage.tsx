import { useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { useAuth } from '@/hooks/useAuth';
import { toAPIError } from '@/services/api/errors';
import type { RegisterRequest } from '@/types';
import { RegisterRequestSchema } from '@/types/auth.zod';
import { issuesToFieldErrors } from '@/utils/forms';
import { redirectTarget } from './LoginPage';

export function RegisterPage() {
  const { register, isAuthenticated } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
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
    const parsed = RegisterRequestSchema.safeParse(input);
    const errors = parsed.success ? {} : issuesToFieldErrors(parsed.error.issues);
    if (!input.email) errors.email = 'Email is required';
    if (input.password.length < 8) errors.password = 'At least 8 characters';
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
      setFieldErrors(apiError.fieldErrors);
      setError(apiError.code === 'CONFLICT' ? 'An account with this email already exists.' : apiError.message);
    }
  };

  return (
    <section className="auth-page">
      <h1>Create an account</h1>
      <form onSubmit={handleSubmit} data-testid="register-form" noValidate>
        <label>
          Email
          <input
            type="email"
            name="email"
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            data-testid="register-email"
          />
          {fieldErrors.email && <span className="field-error">{fieldErrors.email}</span>}
        </label>
        <label>
          Display name (optional)
          <input
            name="display_name"
            autoComplete="nickname"
            value={displayName}
            onChange={(e) => setDisplayName(e.target.value)}
            data-testid="register-display-name"
          />
          {fieldErrors.display_name && <span className="field-error">{fieldErrors.display_name}</span>}
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="register-password"
          />
          {fieldErrors.password && <span className="field-error">{fieldErrors.password}</span>}
        </label>
        <button type="submit" disabled={submitting} data-testid="register-submit">
          {submitting ? 'Creating…' : 'Create account'}
        </button>
        {error && (
          <p role="alert" className="form-error" data-testid="register-error">
            {error}
          </p>
        )}
      </form>
      <p>
        Already registered? <Link to="/login" state={location.state}>Sign in</Link>
      </p>
    </section>
  );
}
