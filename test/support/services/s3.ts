/** The suite's local S3-compatible server (see scripts/local-s3.ts). Tests create their own buckets. */
import { startLocalS3, type LocalS3 } from '../../../scripts/local-s3';

export function startTestS3(dir: string): Promise<LocalS3> {
  return startLocalS3({ dir, accessKeyId: 'outport-test', secretAccessKey: 'outport-test-secret' });
}
