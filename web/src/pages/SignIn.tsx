import { useState } from "preact/hooks";

interface Props {
  message?: string | undefined;
  onSignIn(token: string): Promise<void>;
  describeError(err: unknown): string;
}

export function SignIn({ message, onSignIn, describeError }: Props) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | undefined>(message);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) {
      setError("Paste a token first.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await onSignIn(value);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <div class="signin-card">
        <h1>Brigade</h1>
        <p class="lead">Live view of every team's agents, claims, conflicts and contracts.</p>
        <form onSubmit={submit} noValidate>
          <label for="token">Access token</label>
          <input
            id="token"
            name="token"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            aria-describedby="token-help"
            aria-invalid={error ? true : undefined}
            required
          />
          <p id="token-help" class="hint">
            Paste a personal token (<code>brigade token create</code>, or <code>POST /v1/tokens</code>). It is kept in this browser tab only
            (sessionStorage) and forgotten when the tab closes. Leads and admins see the whole organisation and may break claims.
          </p>
          {error ? (
            <p class="form-error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </div>
    </main>
  );
}
