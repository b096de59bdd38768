/** Hostile-peer scenarios (issue 19), group sim-xml: see test/helpers/hostile-all.ts. */
import { groupTests } from '../../helpers/hostile-tests.js';

groupTests('sim-xml');
