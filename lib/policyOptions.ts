// The policy pack every preview and update of the report and the promotion runs with: advisory,
// and mandatory on a production stack (named production or *-production).
import * as path from "node:path";
import { isProductionStackName } from "../policy/rules";

export const POLICY_PACK = path.resolve(__dirname, "../policy");

export function policyOptions(stack: string): { policyPacks: string[]; policyPackConfigs: string[] } {
  return {
    policyPacks: [POLICY_PACK],
    policyPackConfigs: isProductionStackName(stack) ? [path.join(POLICY_PACK, "production.json")] : [],
  };
}
