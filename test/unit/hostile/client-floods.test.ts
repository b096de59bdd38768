/** Hostile-peer scenarios (issue 19), group client-floods: see test/helpers/hostile-all.ts. */
import { groupTests } from '../../helpers/hostile-tests.js';

groupTests('client-floods');
