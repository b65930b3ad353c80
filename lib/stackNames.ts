/** A stack named production, or ending in -production: the policy pack is mandatory there, and some options are refused. */
export const isProductionStackName = (stack: string) => stack === "production" || stack.endsWith("-production");
