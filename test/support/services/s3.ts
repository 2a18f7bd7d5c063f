/** Starts a local S3-compatible server for the suite. (Filled in by the S3 work; returns nothing until then.) */
export async function startTestS3(
  _dir: string,
): Promise<{ endpoint: string; accessKeyId: string; secretAccessKey: string; stop(): Promise<void> } | undefined> {
  return undefined;
}
