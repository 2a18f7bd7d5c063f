import { runConformance } from '../../src/sdk/conformance';
import fixture from './fixtures/postgres';
runConformance(fixture);
