import { Component, type ComponentChildren } from "preact";

export function Loading({ what }: { what: string }) {
  return (
    <div class="state state-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state state-empty">
      <p class="state-title">{title}</p>
      {children ? <p class="state-hint">{children}</p> : null}
    </div>
  );
}

export function ErrorState({ title, message, onRetry }: { title: string; message: string; onRetry?: () => void }) {
  return (
    <div class="state state-error" role="alert">
      <p class="state-title">{title}</p>
      <p>{message}</p>
      {onRetry ? (
        <button type="button" class="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** A page that throws shows what went wrong instead of a blank screen. */
export class ErrorBoundary extends Component<{ children: ComponentChildren; resetKey: string }, { error: Error | null; key: string }> {
  override state = { error: null as Error | null, key: this.props.resetKey };

  static override getDerivedStateFromProps(props: { resetKey: string }, state: { error: Error | null; key: string }) {
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  override componentDidCatch(error: Error) {
    this.setState({ error });
  }

  override render() {
    if (this.state.error) {
      return (
        <ErrorState
          title="This page failed to show"
          message={`${this.state.error.message}. Other pages still work; reload to try again.`}
          onRetry={() => this.setState({ error: null })}
        />
      );
    }
    return this.props.children;
  }
}

/** A form's outcome under it: an error as an alert, anything else as a status (both read out). */
export function FormMessage({ message }: { message: { error: boolean; text: string } | null }) {
  if (!message) return null;
  return (
    <p class={message.error ? "form-error" : "muted"} role={message.error ? "alert" : "status"}>
      {message.text}
    </p>
  );
}
