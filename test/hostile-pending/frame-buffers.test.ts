/**
 * Hostile-peer scenarios that wait for an RPC-client fix of issue 19 (run
 * with `npm run test:hostile-pending`, not part of the default suite).
 */
import { pendingTests } from '../helpers/hostile-tests.js';

pendingTests('frameBuffers');
