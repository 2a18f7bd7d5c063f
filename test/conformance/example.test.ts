import { runConformance } from '../../src/sdk/conformance';
import fixture from './fixtures/example';
runConformance(fixture);
