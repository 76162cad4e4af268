import { Link } from 'react-router-dom';

export function NotFoundPage() {
  return (
    <section className="not-found card" data-testid="not-found">
      <h1>Page not found</h1>
      <p className="muted">There is nothing at this address. It may have moved, or the link may be mistyped.</p>
      <p>
        <Link to="/" className="button-link">
          Go to the start page
        </Link>
      </p>
    </section>
  );
}
