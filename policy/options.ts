// How the Automation API runs this policy pack: every preview and update of the report and the
// promotion runs with it, advisory, and mandatory on a production stack (named production or
// *-production). Not part of the pack itself (index.ts is its entry point).
import * as path from "node:path";
import { isProductionStackName } from "./rules";

export const POLICY_PACK = path.resolve(__dirname);

export function policyOptions(stack: string): { policyPacks: string[]; policyPackConfigs: string[] } {
  return {
    policyPacks: [POLICY_PACK],
    policyPackConfigs: isProductionStackName(stack) ? [path.join(POLICY_PACK, "production.json")] : [],
  };
}
