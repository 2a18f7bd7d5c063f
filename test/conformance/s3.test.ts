import { runConformance } from '../../src/sdk/conformance';
import fixture, { s3Fixture } from './fixtures/s3';
runConformance(fixture);
runConformance(s3Fixture({ file_format: 'Parquet', compression: 'zstd' }));
