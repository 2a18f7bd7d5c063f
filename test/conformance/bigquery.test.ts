import { runConformance } from '../../src/sdk/conformance';
import fixture from './fixtures/bigquery';
runConformance(fixture);
