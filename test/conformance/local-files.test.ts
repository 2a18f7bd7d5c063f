import { runConformance } from '../../src/sdk/conformance';
import fixture, { localFilesFixture } from './fixtures/local-files';
runConformance(fixture);
runConformance(localFilesFixture({ file_format: 'Parquet', compression: 'zstd', max_file_size_mb: 0.005 }));
