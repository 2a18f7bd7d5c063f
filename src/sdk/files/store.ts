/** The few operations a file destination needs from where it stores files (a directory, a bucket). */

/** One file being written. Nothing is visible under its key until `close()` resolves. */
export interface FileSink {
  /** Resolves when the chunk is accepted (backpressure: the caller awaits before sending more). */
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Drops the file (temporary file, multipart upload); never throws. */
  abort(reason?: unknown): Promise<void>;
}

export interface FileStore {
  /** Starts a file at `key`, replacing any file already there when it closes. */
  create(key: string): Promise<FileSink>;
  /** Writes a small file in one go (the manifest). */
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** Reads a whole file, or undefined if absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Keys that start with `prefix` (a key prefix, not necessarily a directory). */
  list(prefix: string): Promise<string[]>;
  /** Deletes the keys; absent keys are not an error. */
  delete(keys: string[]): Promise<void>;
}
