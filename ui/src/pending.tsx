import type { ComponentChildren } from 'preact';
import type { Loaded, Said } from './use-api.js';

/**
 * The states of a read as sentences: loading ("Loading the runs…"), the server's refusal, an
 * empty answer (`empty` says what to do), or the content. A poll that failed after data came
 * keeps the content and says why beside it.
 */
export function Pending<T>({ of, what, empty, children }: { of: Loaded<T>; what: string; empty?: (data: T) => ComponentChildren | null; children: (data: T) => ComponentChildren }) {
  if (of.data === null) {
    return of.error !== null ? (
      <p class="error" role="alert">
        {of.error}
      </p>
    ) : (
      <p class="muted">Loading {what}…</p>
    );
  }
  const none = empty?.(of.data) ?? null;
  return (
    <>
      {of.error !== null ? (
        <p class="error" role="alert">
          {of.error} (showing what was read before)
        </p>
      ) : null}
      {none !== null ? <p class="muted">{none}</p> : children(of.data)}
    </>
  );
}

/** The sentence an action left (polite live region, so screen readers hear it). */
export function Status({ said, id }: { said: Said | null; id?: string }) {
  return (
    <p id={id} class={said?.ok === false ? 'error' : 'muted'} role="status">
      {said?.text ?? ''}
    </p>
  );
}

/** Why a control is disabled for this key, linked from the control by aria-describedby. */
export function Why({ id, why }: { id: string; why: string | null }) {
  return why === null ? null : (
    <p id={id} class="why muted">
      {why}
    </p>
  );
}
