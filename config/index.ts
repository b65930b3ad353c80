// The stack configuration: its shape (spec.ts), its validation (parse.ts over the checks in
// check.ts) and the PostgreSQL settings it treats apart (../postgres15.ts).
export * from "./spec";
export { isCidr } from "./check";
export { parseStackConfig } from "./parse";
export { MANAGED_SETTINGS, TUNED_SETTINGS } from "../postgres15";
