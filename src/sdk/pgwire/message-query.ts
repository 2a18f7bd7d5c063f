/**
 * A statement sent as a ready-made simple-protocol Query message: the bytes go to the socket as they are, so a
 * statement of several MB never exists as a JS string, nor as the copies node-postgres makes while serialising one
 * (its writer's buffer, then the message). For statements built from bytes already (the Redshift byte path).
 */
import type { Client, Connection, Submittable } from 'pg';

/** Bytes before the SQL in a Query message: the type byte `Q` and the message length (int32). */
export const QUERY_MESSAGE_HEAD_BYTES = 5;
/** The NUL that ends the SQL in a Query message. */
export const QUERY_MESSAGE_TAIL_BYTES = 1;

/**
 * Completes a Query message in place: `message` holds the SQL at `QUERY_MESSAGE_HEAD_BYTES` and has room for the
 * NUL after it; returns the message's view (the head written, the NUL appended).
 */
export function finishQueryMessage(message: Buffer, sqlBytes: number): Buffer {
  const length = QUERY_MESSAGE_HEAD_BYTES + sqlBytes + QUERY_MESSAGE_TAIL_BYTES;
  if (message.length < length) throw new Error(`a Query message of ${length} bytes does not fit its ${message.length}-byte buffer`);
  message[0] = 0x51; // 'Q'
  message.writeInt32BE(length - 1, 1); // the length word counts itself, not the type byte
  message[length - 1] = 0;
  return message.subarray(0, length);
}

class MessageQuery implements Submittable {
  readonly result: Promise<void>;
  private settle!: (err?: Error) => void;
  private failure?: Error;

  constructor(private readonly message: Buffer) {
    this.result = new Promise<void>((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
  }

  // node-postgres calls this when the connection is free (a closed client fails queued queries itself).
  submit(connection: Connection): void {
    connection.stream.write(this.message);
  }

  // The server answers a statement with CommandComplete (or an error), then ReadyForQuery.
  handleError(err: Error): void {
    this.failure ??= err;
    this.settle(err);
  }
  handleReadyForQuery(): void {
    this.settle(this.failure);
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: { sendCopyFail(message: string): void }): void {
    connection.sendCopyFail('a Query message sent as bytes carries no COPY data');
  }
  handleCopyData(): void {}
}

/**
 * Runs the statement whose complete Query message is `message` (see `finishQueryMessage`); resolves when the server
 * is ready for the next one. The caller may reuse `message`'s memory once this settles.
 */
export function queryMessage(client: Client, message: Buffer): Promise<void> {
  const query = new MessageQuery(message);
  client.query(query);
  return query.result;
}
