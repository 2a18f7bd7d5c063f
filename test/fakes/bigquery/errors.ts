/** An error the fake answers with, in BigQuery's REST error shape. */
export class BigQueryError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }

  /** `{ error: { code, message, errors: [{ message, domain, reason }], status } }`, as googleapis.com sends it. */
  body(): unknown {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: 'global', reason: this.reason }],
        status: STATUS_NAMES[this.status] ?? 'UNKNOWN',
      },
    };
  }

  /** The `status` part of a job that failed with this error. */
  jobStatus(): unknown {
    const e = { reason: this.reason, message: this.message };
    return { state: 'DONE', errorResult: e, errors: [e] };
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};
