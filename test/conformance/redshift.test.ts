import { runConformance } from '../../src/sdk/conformance';
import fixture from './fixtures/redshift';
runConformance(fixture);
