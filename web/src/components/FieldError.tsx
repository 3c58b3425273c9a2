// A problem shown under its field: the browser's own check or the server's 422, keyed by the field's path.

export function FieldError({ at, problems }: { at: string; problems: Record<string, string> }) {
  const msg = problems[at];
  return msg ? (
    <div className="field-error" data-testid={`error-${at}`} role="alert">
      {msg}
    </div>
  ) : null;
}
