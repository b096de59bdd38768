/**
 * Every hostile-peer scenario, by group: what the unit tests, the pending
 * tests and scripts/hostile-report.ts select from.
 */
import { floodScenarios, timeScenarios } from './hostile-client-floods.js';
import { framingScenarios, headerScenarios, payloadScenarios } from './hostile-client-scenarios.js';
import type { Scenario } from './hostile-scenarios.js';
import {
  floodScenarios as simFloods,
  frameScenarios as simFrames,
  limitScenarios as simLimits,
  stringScenarios as simStrings,
  xmlScenarios as simXml,
} from './hostile-sim-scenarios.js';

export const GROUPS = {
  'client-framing': framingScenarios,
  'client-headers': headerScenarios,
  'client-payload': payloadScenarios,
  'client-time': timeScenarios,
  'client-floods': floodScenarios,
  'sim-strings': simStrings,
  'sim-xml': simXml,
  'sim-frames': simFrames,
  'sim-floods': simFloods,
  'sim-limits': simLimits,
} as const satisfies Record<string, () => Scenario[]>;

export type Group = keyof typeof GROUPS;

/** Every scenario of every group. */
export function allScenarios(): Scenario[] {
  return Object.values(GROUPS).flatMap((g) => g());
}
