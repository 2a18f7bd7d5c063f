import { runConformance } from '../../src/sdk/conformance';
import fixture from './fixtures/snowflake';
runConformance(fixture);
